-- Argo CD health for sloguard.io/ServiceLevelObjective.
-- An exhausted error budget is a fact about the service, not a broken object: Healthy with the
-- figure in the message, unless the object is annotated sloguard.io/argocd-strict: "true".
-- The same in all three sloguard checks: no status, an old generation or no Ready condition ->
-- Progressing; Ready=Unknown -> Progressing; Ready=False -> Degraded.
local hs = {}
local function condition(status, type_)
  if status == nil or status.conditions == nil then return nil end
  for _, c in ipairs(status.conditions) do
    if c.type == type_ then return c end
  end
  return nil
end
local strict = obj.metadata ~= nil and obj.metadata.annotations ~= nil
  and obj.metadata.annotations["sloguard.io/argocd-strict"] == "true"
local status = obj.status
local generation = obj.metadata and obj.metadata.generation or nil
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end
if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = condition(status, "Ready")
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = (ready and ready.message) or "Waiting for the Ready condition"
  return hs
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
  return hs
end
local remaining = status.budget and status.budget.remainingPercent or nil
if status.state == "exhausted" then
  hs.status = strict and "Degraded" or "Healthy"
  hs.message = "Error budget exhausted"
  if remaining ~= nil then hs.message = hs.message .. " (" .. tostring(remaining) .. "% left)" end
  return hs
end
hs.status = "Healthy"
if status.state ~= nil and remaining ~= nil then
  hs.message = "Budget " .. status.state .. ", " .. tostring(remaining) .. "% left"
else
  hs.message = ready.message or "Ready"
end
return hs
