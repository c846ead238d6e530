-- Argo CD health for sloguard.io/ErrorBudgetPolicy.
-- A policy that holds releases (action freeze or emergency) is Suspended: the object works, and
-- releases of its targets wait for the budget to recover (Degraded instead when annotated
-- sloguard.io/argocd-strict: "true").
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
local action = status.action or "none"
if action == "freeze" or action == "emergency" then
  hs.status = strict and "Degraded" or "Suspended"
  hs.message = "Action " .. action
  if status.held ~= nil then hs.message = hs.message .. ", " .. tostring(status.held) .. " workload(s) held" end
  if status.reason ~= nil then hs.message = hs.message .. ": " .. status.reason end
  return hs
end
hs.status = "Healthy"
hs.message = "Level " .. (status.level or "unknown") .. ", action " .. action
return hs
