-- Argo CD health for sloguard.io/SLAContract.
-- A breached month is a fact for the account team, not a broken object: Healthy with the
-- compliance in the message, unless annotated sloguard.io/argocd-strict: "true".
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
local period = status.currentPeriod
hs.status = "Healthy"
if period == nil then
  hs.message = "No period evaluated yet"
  return hs
end
hs.message = (period.period or "") .. ": " .. (period.compliance or "")
if period.compliant == false and strict then hs.status = "Degraded" end
return hs
