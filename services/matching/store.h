/* Every SQL statement of matching (store.c). */
#ifndef HC_MATCHING_STORE_H
#define HC_MATCHING_STORE_H

#include "common/db/db.h"

extern const db_stmt matching_statements[];

#endif
