-- Argo CD health for sloguard.io/ErrorBudgetPolicy.
-- Progressing until the operator has observed the current generation; Degraded when Ready=False
-- (e.g. it cannot enforce); Healthy otherwise. A freeze is the policy doing its job: Healthy with
-- the action in the message, unless annotated sloguard.io/argocd-strict: "true".
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
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
  return hs
end
if ready ~= nil and ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = ready.message or "Waiting for the Ready condition"
  return hs
end
local action = status.action or "none"
hs.status = "Healthy"
if action == "freeze" or action == "emergency" then
  if strict then hs.status = "Degraded" end
  hs.message = "Action " .. action
  if status.held ~= nil then hs.message = hs.message .. ", " .. tostring(status.held) .. " workload(s) held" end
  if status.reason ~= nil then hs.message = hs.message .. ": " .. status.reason end
  return hs
end
hs.message = "Level " .. (status.level or "unknown") .. ", action " .. action
return hs
