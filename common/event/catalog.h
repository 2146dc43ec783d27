/*
 * Every topic and event type of the platform, in one place.  Topics follow
 * hc.<domain>.<entity>.v<major> and are created by deploy/local/topics.sh
 * (docs/EVENTS.md has the table); each has a dead-letter twin <topic>.dlq.
 * Event types carry the same major version; their JSON Schemas are under
 * proto/events/<type>.schema.json.
 *
 * Check-ins share the declaration topic: keyed by person, a person's
 * check-ins stay ordered after the declaration that introduced them.
 */
#ifndef HC_EVENT_CATALOG_H
#define HC_EVENT_CATALOG_H

#define TOPIC_EMPLOYER_APPLICATION "hc.intake.employer-application.v1"
#define TOPIC_REVIEW_DECISION      "hc.review.decision.v1"
#define TOPIC_DECLARATION          "hc.intake.declaration.v1"
#define TOPIC_CORRECTION           "hc.intake.correction.v1"
#define TOPIC_ASSESSMENT           "hc.matching.assessment.v1"
#define TOPIC_RULE                 "hc.matching.rule.v1"
#define TOPIC_CERTIFICATE          "hc.certificate.certificate.v1"
#define TOPIC_VEHICLE_PASS         "hc.certificate.vehicle-pass.v1"
#define TOPIC_CODE                 "hc.codegen.code.v1"
#define TOPIC_SCAN                 "hc.codegen.scan.v1"

#define TYPE_EMPLOYER_APPLICATION_SUBMITTED "hc.intake.employer-application.submitted.v1"
#define TYPE_EMPLOYER_APPLICATION_DECIDED   "hc.review.employer-application.decided.v1"
#define TYPE_DECLARATION_SUBMITTED          "hc.intake.declaration.submitted.v1"
#define TYPE_CHECKIN_SUBMITTED              "hc.intake.checkin.submitted.v1"
#define TYPE_CORRECTION_FILED               "hc.intake.correction.filed.v1"
#define TYPE_CORRECTION_DECIDED             "hc.review.correction.decided.v1"
#define TYPE_ASSESSMENT_COMPLETED           "hc.matching.assessment.completed.v1"
#define TYPE_RULE_PUBLISHED                 "hc.matching.rule.published.v1"
#define TYPE_CERTIFICATE_ISSUED             "hc.certificate.certificate.issued.v1"
#define TYPE_CERTIFICATE_REVOKED            "hc.certificate.certificate.revoked.v1"
#define TYPE_VEHICLE_PASS_ISSUED            "hc.certificate.vehicle-pass.issued.v1"
#define TYPE_VEHICLE_PASS_REVOKED           "hc.certificate.vehicle-pass.revoked.v1"
#define TYPE_CODE_CHANGED                   "hc.codegen.code.changed.v1"
#define TYPE_SCAN_RECORDED                  "hc.codegen.scan.recorded.v1"

#endif
