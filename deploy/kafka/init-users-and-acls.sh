#!/usr/bin/env bash
# Kafka's SCRAM-SHA-512 users and their ACLs for the production example (deploy/compose.production.yml).
# Runs once per `up` in the broker's network namespace, over the broker's loopback listener
# ($BOOTSTRAP, PLAINTEXT, super user). Idempotent: a user's credential is overwritten with the current
# password, an ACL that exists already is kept as it is.
#
# The ACLs, one `allow USER OPERATION RESOURCE-TYPE NAME` a line, are the whole of what each user
# may do (tests/unit/test_kafka_security.py runs this script against stand-in tools and compares
# them with shared/topics.py). Read and Write imply
# Describe; Write on a topic also allows the idempotent producer (KIP-679).
set -euo pipefail

: "${KAFKA_BIN:=/opt/kafka/bin}"
: "${BOOTSTRAP:=127.0.0.1:29092}"

scram_user() {  # scram_user NAME PASSWORD
  "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]" > /dev/null
  echo "SCRAM-SHA-512 user $1"
}

allow() {  # allow USER OPERATION topic|group NAME
  "$KAFKA_BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --add --force \
    --allow-principal "User:$1" --operation "$2" "--$3" "$4" > /dev/null
  echo "ACL: User:$1 may $2 $3 $4"
}

scram_user vip-scoring "$VIP_KAFKA_SCORING_PASSWORD"
scram_user vip-tiering "$VIP_KAFKA_TIERING_PASSWORD"
scram_user vip-assignment "$VIP_KAFKA_ASSIGNMENT_PASSWORD"
scram_user vip-entitlements "$VIP_KAFKA_ENTITLEMENTS_PASSWORD"
scram_user vip-topics "$VIP_KAFKA_TOPICS_PASSWORD"
scram_user vip-dashboard "$VIP_KAFKA_DASHBOARD_PASSWORD"
scram_user vip-pas "$VIP_KAFKA_PAS_PASSWORD"
scram_user vip-crm "$VIP_KAFKA_CRM_PASSWORD"
scram_user vip-hr "$VIP_KAFKA_HR_PASSWORD"

# scoring: policy events and the CRM's group client events in, customer scores and group clients out.
allow vip-scoring Read topic pas.policy-events
allow vip-scoring Read topic crm.customer-events
allow vip-scoring Read group vip-scoring
allow vip-scoring Write topic vip.customer-scores.v1
allow vip-scoring Write topic vip.group-clients.v1
allow vip-scoring Write topic pas.policy-events.dlq
allow vip-scoring Write topic crm.customer-events.dlq

# tiering: scores, customer events, group clients and group feedback in; tier decisions and group levels out.
allow vip-tiering Read topic vip.customer-scores.v1
allow vip-tiering Read topic crm.customer-events
allow vip-tiering Read topic vip.group-clients.v1
allow vip-tiering Read topic vip.group-feedback.v1
allow vip-tiering Read group vip-tiering
allow vip-tiering Write topic vip.tier-decisions.v1
allow vip-tiering Write topic vip.group-levels.v1
allow vip-tiering Write topic vip.customer-scores.v1.dlq
allow vip-tiering Write topic crm.customer-events.dlq
allow vip-tiering Write topic vip.group-clients.v1.dlq
allow vip-tiering Write topic vip.group-feedback.v1.dlq

# assignment: tier decisions, agent events and customer profiles (the duties' birthdays) in,
# representatives out.
allow vip-assignment Read topic vip.tier-decisions.v1
allow vip-assignment Read topic hr.agent-events
allow vip-assignment Read topic crm.customer-events
allow vip-assignment Read group vip-assignment
allow vip-assignment Write topic vip.representatives.v1
allow vip-assignment Write topic vip.tier-decisions.v1.dlq
allow vip-assignment Write topic hr.agent-events.dlq
# ... customer profiles (birthdays for the duties) and the group program's levels; account managers out.
allow vip-assignment Read topic crm.customer-events
allow vip-assignment Write topic crm.customer-events.dlq
allow vip-assignment Read topic vip.group-levels.v1
allow vip-assignment Write topic vip.group-levels.v1.dlq
allow vip-assignment Write topic vip.account-managers.v1

# entitlements: tier decisions and representatives in, nothing out but its dead letters.
allow vip-entitlements Read topic vip.tier-decisions.v1
allow vip-entitlements Read topic vip.representatives.v1
allow vip-entitlements Read group vip-entitlements
allow vip-entitlements Write topic vip.tier-decisions.v1.dlq
allow vip-entitlements Write topic vip.representatives.v1.dlq
# ... the group program: levels and account managers in, feedback for the next evaluation out.
allow vip-entitlements Read topic vip.group-levels.v1
allow vip-entitlements Read topic vip.account-managers.v1
allow vip-entitlements Write topic vip.group-levels.v1.dlq
allow vip-entitlements Write topic vip.account-managers.v1.dlq
allow vip-entitlements Write topic vip.group-feedback.v1

# The one-shot `topics` container: creates every topic and its dead-letter topic (shared/topics.py).
for topic in pas.policy-events hr.agent-events crm.customer-events \
             vip.customer-scores.v1 vip.tier-decisions.v1 vip.representatives.v1 \
             vip.group-clients.v1 vip.group-levels.v1 vip.account-managers.v1 vip.group-feedback.v1; do
  allow vip-topics Create topic "$topic"
  allow vip-topics Describe topic "$topic"
  allow vip-topics Create topic "$topic.dlq"
  allow vip-topics Describe topic "$topic.dlq"
done

# The ops dashboard reads the latest dead letters (no consumer group).
for topic in pas.policy-events hr.agent-events crm.customer-events \
             vip.customer-scores.v1 vip.tier-decisions.v1 vip.representatives.v1 \
             vip.group-clients.v1 vip.group-levels.v1 vip.account-managers.v1 vip.group-feedback.v1; do
  allow vip-dashboard Read topic "$topic.dlq"
done

# The upstream systems each write their own inbound topic.
allow vip-pas Write topic pas.policy-events
allow vip-crm Write topic crm.customer-events
allow vip-hr Write topic hr.agent-events
