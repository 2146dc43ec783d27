/* The parts of hc-replay, shared between its files. */
#ifndef HC_ADMIN_REPLAY_H
#define HC_ADMIN_REPLAY_H

#include <signal.h>
#include <stdint.h>

#include "common/bus/bus.h"

/* ISO 8601 with a zone ("Z" or +hh:mm) or @EPOCH_MS, in microseconds; -1 when bad. */
int64_t replay_parse_us(const char *s);

/* Brokers and prefix from the environment, no range limits. */
void replay_base_config(bus_reader_config *cfg);

/* SIGINT and SIGTERM set the flag replay_stop_flag() returns. */
void replay_on_signals(void);
volatile sig_atomic_t *replay_stop_flag(void);

/* hc-replay as-of ... (replay_asof.c) */
int replay_as_of(int argc, char **argv);

/* hc-replay project ... (replay_project.c) */
int replay_project(int argc, char **argv);

#endif
