/* Unit tests of common/config: settings from the environment, errors that name them. */
#include <stddef.h>

#include "common/config/config.h"
#include "tests/unit/unit.h"

typedef struct demo_config {
	const char *url;
	long port;
	unsigned char key[32];
	const char *mode;
} demo_config;

static const config_var vars[] = {
    {"T_URL", CONFIG_STRING, NULL, offsetof(demo_config, url), 1, 100, "url"},
    {"T_PORT", CONFIG_INT, "8080", offsetof(demo_config, port), 1, 65535, "port"},
    {"T_KEY", CONFIG_KEY32, NULL, offsetof(demo_config, key), 0, 0, "key"},
    {"T_MODE", CONFIG_STRING, "fast", offsetof(demo_config, mode), 1, 10, "mode"},
};

static const char *key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static int load(demo_config *c, hc_err *err)
{
	hc_err_clear(err);
	return config_load(c, vars, sizeof(vars) / sizeof(vars[0]), err);
}

TEST(defaults_and_values)
{
	demo_config c;
	hc_err err;

	setenv("T_URL", "postgresql://x", 1);
	setenv("T_KEY", key_hex, 1);
	unsetenv("T_PORT");
	CHECK_EQ_INT(load(&c, &err), 0);
	CHECK_EQ_STR(c.url, "postgresql://x");
	CHECK_EQ_INT(c.port, 8080);
	CHECK_EQ_INT(c.key[31], 0x1f);
	CHECK_EQ_STR(c.mode, "fast");
	setenv("T_PORT", "9", 1);
	CHECK_EQ_INT(load(&c, &err), 0);
	CHECK_EQ_INT(c.port, 9);
}

TEST(missing_required_names_it)
{
	demo_config c;
	hc_err err;

	unsetenv("T_URL");
	setenv("T_KEY", key_hex, 1);
	CHECK_EQ_INT(load(&c, &err), HC_ERR_FATAL);
	CHECK_EQ_STR(err.field, "T_URL");
	CHECK(strstr(err.msg, "missing required setting T_URL") != NULL);
}

TEST(malformed_values_name_it)
{
	demo_config c;
	hc_err err;

	setenv("T_URL", "u", 1);
	setenv("T_KEY", key_hex, 1);
	setenv("T_PORT", "80a", 1);
	CHECK_EQ_INT(load(&c, &err), HC_ERR_FATAL);
	CHECK_EQ_STR(err.field, "T_PORT");
	setenv("T_PORT", "70000", 1);
	CHECK_EQ_INT(load(&c, &err), HC_ERR_FATAL);
	CHECK(strstr(err.msg, "outside") != NULL);
	setenv("T_PORT", "80", 1);
	setenv("T_KEY", "abc", 1);
	CHECK_EQ_INT(load(&c, &err), HC_ERR_FATAL);
	CHECK_EQ_STR(err.field, "T_KEY");
	setenv("T_KEY", key_hex, 1);
	setenv("T_MODE", "much-too-long-mode", 1);
	CHECK_EQ_INT(load(&c, &err), HC_ERR_FATAL);
	CHECK_EQ_STR(err.field, "T_MODE");
}

UNIT_MAIN(T(defaults_and_values), T(missing_required_names_it), T(malformed_values_name_it))
