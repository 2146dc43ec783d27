/* Unified social credit codes, GB 32100-2015; see identity.h. */
#include <string.h>

#include "common/identity/identity.h"

static const char credit_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int credit_value(char c)
{
	const char *p = c ? strchr(credit_alphabet, c) : NULL;

	return p ? (int)(p - credit_alphabet) : -1;
}

char credit_code_check_char(const char *first17)
{
	static const int weights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
	                                29, 25, 13, 8,  24, 10, 30, 28};
	int i, sum = 0, c;

	for (i = 0; i < 17; i++) {
		int v = credit_value(first17[i]);

		if (v < 0)
			return 0;
		sum += v * weights[i];
	}
	c = 31 - sum % 31;
	return credit_alphabet[c == 31 ? 0 : c];
}

int credit_code_validate(const char *text, hc_err *err)
{
	int i;

	if (strlen(text) != CREDIT_CODE_LEN)
		return hc_err_set(err, HC_ERR_PERMANENT, "credit code must be 18 characters");
	for (i = 0; i < CREDIT_CODE_LEN; i++)
		if (credit_value(text[i]) < 0)
			return hc_err_set(
			    err, HC_ERR_PERMANENT,
			    "credit code character %d is not in the GB 32100 alphabet", i + 1);
	for (i = 2; i < 8; i++)
		if (text[i] < '0' || text[i] > '9')
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "credit code characters 3-8 must be a region code");
	if (credit_code_check_char(text) != text[17])
		return hc_err_set(err, HC_ERR_PERMANENT, "credit code check character is wrong");
	return 0;
}
