/* Unit tests of common/identity: resident IDs, credit codes, person keys, masking, sealing. */
#include "common/identity/identity.h"
#include "tests/unit/unit.h"

TEST(resident_id_valid_examples)
{
	char out[19];
	hc_err err;

	CHECK_EQ_INT(resident_id_normalise("11010519491231002X", out, &err), 0);
	CHECK_EQ_STR(out, "11010519491231002X");
	/* lower-case x is normalised */
	CHECK_EQ_INT(resident_id_normalise("11010519491231002x", out, &err), 0);
	CHECK_EQ_STR(out, "11010519491231002X");
	/* a Wuhan-born example built with its own check character */
	{
		char id[19];

		snprintf(id, sizeof(id), "42010219900307123%c",
		         resident_id_check_char("42010219900307123"));
		CHECK_EQ_INT(resident_id_normalise(id, out, &err), 0);
		CHECK_EQ_STR(out, id);
	}
}

TEST(resident_id_wrong_check_character)
{
	char out[19];
	hc_err err;

	CHECK_EQ_INT(resident_id_normalise("110105194912310021", out, &err), HC_ERR_PERMANENT);
	CHECK(strstr(err.msg, "check character") != NULL);
	/* the message never echoes the number */
	CHECK(strstr(err.msg, "1101051949") == NULL);
}

TEST(resident_id_every_check_character_position)
{
	/* For one 17-digit body, exactly one of the 11 check characters is accepted. */
	static const char cands[] = "0123456789X";
	char id[19], out[19];
	int i, accepted = 0;
	hc_err err;

	for (i = 0; i < 11; i++) {
		snprintf(id, sizeof(id), "42010219800229001%c", cands[i]);
		accepted += resident_id_normalise(id, out, &err) == 0;
	}
	CHECK_EQ_INT(accepted, 1);
}

TEST(resident_id_impossible_dates)
{
	static const char *bodies[] = {"42010219810229001",  /* not a leap year */
	                               "42010219901301001",  /* month 13 */
	                               "42010219900431001",  /* 31 April */
	                               "42010218991231001",  /* before 1900 */
	                               "42010229991231001"}; /* future */
	char id[19], out[19];
	size_t i;
	hc_err err;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(id, sizeof(id), "%s%c", bodies[i], resident_id_check_char(bodies[i]));
		CHECK_EQ_INT(resident_id_normalise(id, out, &err), HC_ERR_PERMANENT);
		CHECK(strstr(err.msg, "birth date") != NULL);
	}
}

TEST(resident_id_shape)
{
	char out[19];
	hc_err err;

	CHECK_EQ_INT(resident_id_normalise("", out, &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(resident_id_normalise("11010519491231002", out, &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(resident_id_normalise("11010519491231002XX", out, &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(resident_id_normalise("1101051949123100AX", out, &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(resident_id_normalise("11010519491231002Y", out, &err), HC_ERR_PERMANENT);
}

TEST(credit_code_examples)
{
	hc_err err;
	char code[19] = "91420100MA4K00000";

	code[17] = credit_code_check_char(code);
	code[18] = '\0';
	CHECK(code[17] != 0);
	CHECK_EQ_INT(credit_code_validate(code, &err), 0);
	/* a published code: 91350100M000100Y43 */
	CHECK_EQ_INT(credit_code_validate("91350100M000100Y43", &err), 0);
	CHECK_EQ_INT(credit_code_validate("91350100M000100Y44", &err), HC_ERR_PERMANENT);
	CHECK(strstr(err.msg, "check character") != NULL);
	/* I, O, S, V, Z are not in the alphabet */
	CHECK_EQ_INT(credit_code_validate("91350100M0001O0Y43", &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(credit_code_validate("9135", &err), HC_ERR_PERMANENT);
}

TEST(person_key_is_stable_and_keyed)
{
	unsigned char a[32] = {1}, b[32] = {2};
	char k1[65], k2[65], k3[65];

	person_key_derive(a, "11010519491231002X", k1);
	person_key_derive(a, "11010519491231002X", k2);
	person_key_derive(b, "11010519491231002X", k3);
	CHECK_EQ_STR(k1, k2);
	CHECK(strcmp(k1, k3) != 0);
	CHECK_EQ_INT(strlen(k1), 64);
	CHECK(strstr(k1, "11010519") == NULL);
}

TEST(name_mask_keeps_one_character)
{
	char out[64];

	name_mask("张三丰", out, sizeof(out));
	CHECK_EQ_STR(out, "张**");
	name_mask("Li", out, sizeof(out));
	CHECK_EQ_STR(out, "L*");
	name_mask("王", out, sizeof(out));
	CHECK_EQ_STR(out, "王");
	name_mask("", out, sizeof(out));
	CHECK_EQ_STR(out, "*");
}

TEST(pii_seal_round_trip_and_tamper)
{
	unsigned char key[32] = {9}, other[32] = {8};
	char *sealed = pii_seal(key, "t.name", "张三");
	char *opened = pii_open(key, "t.name", sealed);
	size_t i;

	CHECK_EQ_STR(opened, "张三");
	free(opened);
	CHECK(pii_open(other, "t.name", sealed) == NULL);
	CHECK(pii_open(key, "t.phone", sealed) == NULL); /* bound to its column */
	for (i = 0; sealed[i] != '\0'; i++) {
		char saved = sealed[i];

		if (saved == '|')
			continue;
		sealed[i] = saved == '0' ? '1' : '0';
		CHECK(pii_open(key, "t.name", sealed) == NULL);
		sealed[i] = saved;
	}
	free(sealed);
}

TEST(resident_id_fixtures)
{
	FILE *f = fopen("tests/fixtures/resident_ids.txt", "r");
	char line[256];
	int cases = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		char id[64], expect[128], out[19];
		hc_err err;
		int rc;

		if (line[0] == '#' || sscanf(line, "%63s %127[^\n]", id, expect) != 2)
			continue;
		hc_err_clear(&err);
		rc = resident_id_normalise(id, out, &err);
		if (strcmp(expect, "ok") == 0) {
			if (rc != 0)
				fprintf(stderr, "    %s: %s\n", id, err.msg);
			CHECK_EQ_INT(rc, 0);
		} else {
			if (rc == 0 || strstr(err.msg, expect) == NULL)
				fprintf(stderr, "    %s: want \"%s\", got \"%s\"\n", id, expect,
				        err.msg);
			CHECK(rc == HC_ERR_PERMANENT && strstr(err.msg, expect) != NULL);
		}
		cases++;
	}
	fclose(f);
	CHECK(cases >= 10);
}

TEST(regression_free_text_carrying_a_phone_or_id)
{
	hc_err err;

	CHECK_EQ_INT(pii_text_check("武汉市自来水有限公司", &err), 0);
	CHECK_EQ_INT(pii_text_check("第3001厂 2020年", &err), 0);
	CHECK_EQ_INT(pii_text_check("1234567890", &err), 0); /* 10 digits */
	CHECK_EQ_INT(pii_text_check("公司13800134000", &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(pii_text_check("联系 138-0013-4000", &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(pii_text_check("138 0013 4000", &err), HC_ERR_PERMANENT);
	CHECK_EQ_INT(pii_text_check("42010219850315123X", &err), HC_ERR_PERMANENT);
	CHECK(strstr(err.msg, "phone or ID") != NULL);
}

UNIT_MAIN(T(regression_free_text_carrying_a_phone_or_id), T(resident_id_fixtures),
          T(resident_id_valid_examples), T(resident_id_wrong_check_character),
          T(resident_id_every_check_character_position), T(resident_id_impossible_dates),
          T(resident_id_shape), T(credit_code_examples), T(person_key_is_stable_and_keyed),
          T(name_mask_keeps_one_character), T(pii_seal_round_trip_and_tamper))
