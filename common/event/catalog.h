/*
 * Every topic and event type of the platform, in one place.  Topics follow
 * hc.<domain>.<entity>.v<major> and are created by deploy/local/topics.sh
 * (docs/EVENTS.md has the table); each has a dead-letter twin <topic>.dlq.
 * Event types carry the same major version; their JSON Schemas are under
 * proto/events/<type>.schema.json.
 */
#ifndef HC_EVENT_CATALOG_H
#define HC_EVENT_CATALOG_H

#define TOPIC_EMPLOYER_APPLICATION "hc.intake.employer-application.v1"
#define TOPIC_REVIEW_DECISION      "hc.review.decision.v1"
#define TOPIC_DECLARATION          "hc.intake.declaration.v1"

#define TYPE_EMPLOYER_APPLICATION_SUBMITTED "hc.intake.employer-application.submitted.v1"
#define TYPE_EMPLOYER_APPLICATION_DECIDED   "hc.review.employer-application.decided.v1"
#define TYPE_DECLARATION_SUBMITTED          "hc.intake.declaration.submitted.v1"

#endif
