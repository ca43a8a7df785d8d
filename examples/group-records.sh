#!/bin/sh
# The group story's service records (附件三-六), recorded over HTTP once `vip publish
# examples/group-events.jsonl` and a quarter-end daily run have put GC0001 at level_1 and GC0002 at
# level_2. TOKEN is a token with the role group_service (VIP_API_TOKENS), ENT the entitlements URL.
set -eu
ENT=${ENT:-http://127.0.0.1:8004}
AUTH="Authorization: Bearer ${TOKEN:?set TOKEN to a group_service token}"
post() { curl -sS -X POST "$ENT$1" -H "$AUTH" -H 'Content-Type: application/json' -d "$2"; echo; }

post /v1/group-clients/GC0001/green-channel \
  '{"date":"2026-10-12","claim_reference":"CLM-77120","insured_employee":"李明","expedited":"hospitalisation claim paid before documents","days_taken":1}'
post /v1/group-clients/GC0001/daily-care \
  '{"date":"2026-10-01","occasion":"National Day","channel":"visit","reached":"HR director 王女士"}'
post /v1/group-clients/GC0001/services/service_visit/deliveries '{"date":"2026-10-20","note":"Q3 service report"}'
post /v1/group-clients/GC0001/consultations \
  '{"kind":"complaint","received_at":"2026-11-03T10:00:00+08:00","topic":"claim status not answered","handler":"赵敏","resolved_at":"2026-11-04T09:00:00+08:00","outcome":"status sent daily","verified":true}'
post /v1/group-clients/GC0001/surveys \
  '{"date":"2026-11-20","scores":{"responsiveness":5,"claims":4,"manager":5,"information":4,"overall":5}}'
post /v1/group-clients/GC0002/consultations \
  '{"kind":"complaint","received_at":"2026-11-25T15:00:00+08:00","topic":"invoice wrong","handler":"周婷"}'
