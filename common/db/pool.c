/*
 * A fixed pool of database connections for the HTTP worker threads; see
 * db.h.  A thread takes a connection for one request and gives it back, so
 * the pool size bounds the database load an HTTP burst can create.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/db/db.h"
#include "common/log/log.h"

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	size_t size;
	size_t nfree;
	db_conn **all;
	db_conn **free_list;
};

int db_pool_new(db_pool **out, size_t size, const char *url, const char *schema,
                const db_stmt_table *tables, hc_err *err)
{
	db_pool *pool = calloc(1, sizeof(*pool));
	size_t i;

	if (pool == NULL)
		abort();
	pool->all = calloc(size, sizeof(*pool->all));
	pool->free_list = calloc(size, sizeof(*pool->free_list));
	if (pool->all == NULL || pool->free_list == NULL)
		abort();
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->freed, NULL);
	for (i = 0; i < size; i++) {
		int rc = db_connect(&pool->all[i], url, schema, tables, err);

		if (rc != 0) {
			pool->size = i;
			db_pool_free(pool);
			return rc;
		}
		pool->free_list[i] = pool->all[i];
	}
	pool->size = size;
	pool->nfree = size;
	*out = pool;
	return 0;
}

void db_pool_free(db_pool *pool)
{
	size_t i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->size; i++)
		db_close(pool->all[i]);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->freed);
	free(pool->all);
	free(pool->free_list);
	free(pool);
}

db_conn *db_pool_take(db_pool *pool)
{
	db_conn *conn;
	hc_err err;

	pthread_mutex_lock(&pool->lock);
	while (pool->nfree == 0)
		pthread_cond_wait(&pool->freed, &pool->lock);
	conn = pool->free_list[--pool->nfree];
	pthread_mutex_unlock(&pool->lock);
	/* A failure here surfaces again, classified, on the caller's first statement. */
	if (db_ensure(conn, &err) != 0)
		log_warn("%s", err.msg);
	return conn;
}

void db_pool_give(db_pool *pool, db_conn *conn)
{
	db_tx_rollback(conn);
	pthread_mutex_lock(&pool->lock);
	pool->free_list[pool->nfree++] = conn;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}
