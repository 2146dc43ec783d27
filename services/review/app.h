/*
 * review: county headquarters' review queues.  Consumes submitted employer
 * applications into the queue of their county and serves the queues;
 * consumes filed correction requests, reviewed by the county and then by
 * the city.
 */
#ifndef HC_REVIEW_APP_H
#define HC_REVIEW_APP_H

#include "common/event/cloudevent.h"
#include "common/svc/svc.h"

typedef struct review_config {
	long deadline_hours; /* HC_REVIEW_DEADLINE_HOURS */
} review_config;

typedef struct review_app {
	svc svc; /* first: the runtime casts the app to its svc */
	review_config cfg;
} review_app;

/* Consumed events, one file each under events/. */
int review_on_employer_application_submitted(void *app, db_conn *tx, const cloudevent *ev,
                                             hc_err *err);

int review_on_correction_filed(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes, under routes/. */
void review_get_county_queue(void *app, http_req *req);
void review_get_queue_item(void *app, http_req *req);
void review_post_decision(void *app, http_req *req);
void review_get_county_corrections(void *app, http_req *req);
void review_get_correction(void *app, http_req *req);
void review_post_correction_county(void *app, http_req *req);
void review_post_correction_city(void *app, http_req *req);

/* The CloudEvents source of every event review publishes. */
#define REVIEW_EVENT_SOURCE "/hc/review"

#endif
