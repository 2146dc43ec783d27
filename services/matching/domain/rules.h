/*
 * Colour rules as data, and the reference records they read.  The rules,
 * no I/O: the store loads rules and evidence, these functions decide.
 */
#ifndef HC_MATCHING_RULES_H
#define HC_MATCHING_RULES_H

#include <jansson.h>

#include "common/base/err.h"

/*
 * Evaluates rules (a JSON array in priority order of {rule_id, version,
 * colour, sources[], kinds[], window_days}) over evidence (an array of
 * {source, kind, record_id, date, age_days, ref}).  A rule matches an
 * evidence item only when the item's source is one of the rule's sources,
 * its kind one of the rule's kinds and its age below window_days.  The
 * first rule with a match decides; otherwise the first rule without kinds
 * (the default).  Returns {colour, rule_id, rule_version, evidence[]} with
 * the matched items (empty for the default), or NULL when no rule applies
 * (no default rule in force).
 */
json_t *rules_evaluate(json_t *rules, json_t *evidence);

/*
 * Checks one reference record as imported (fields source, record_id, kind,
 * resident_id, county_code, date, until, level; which are required depends
 * on the source) and returns in *row the record to store: the resident ID
 * replaced by its person key, everything else as given.  path names the
 * record in errors ("records[3]").  Returns 0, or HC_ERR_PERMANENT naming
 * the field.
 */
int record_parse(json_t *in, const char *path, const unsigned char secret[32], json_t **row,
                 hc_err *err);

/*
 * Checks a new version of a colour rule as published (POST /v1/rules:
 * rule_id, priority, colour, sources[], kinds[], window_days, description,
 * and valid_from, optional).  Sources are names of data sources (the
 * database refuses one that is not an allow-listed health source); kinds
 * may be empty only for a green rule (the default).  Returns 0, or
 * HC_ERR_PERMANENT naming the field.
 */
int rule_version_check(json_t *in, hc_err *err);

#endif
