/* Resident ID numbers, GB 11643-1999; see identity.h. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "common/identity/identity.h"

char resident_id_check_char(const char *first17)
{
	static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char checks[] = "10X98765432";
	int i, sum = 0;

	for (i = 0; i < 17; i++)
		sum += (first17[i] - '0') * weights[i];
	return checks[sum % 11];
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int resident_id_normalise(const char *text, char out[RESIDENT_ID_LEN + 1], hc_err *err)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int i, y, m, d, maxd;
	time_t now = time(NULL);
	struct tm tm;

	if (strlen(text) != RESIDENT_ID_LEN)
		return hc_err_set(err, HC_ERR_PERMANENT, "resident ID must be 18 characters");
	for (i = 0; i < 17; i++)
		if (!isdigit((unsigned char)text[i]))
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "resident ID must start with 17 digits");
	memcpy(out, text, RESIDENT_ID_LEN + 1);
	if (out[17] == 'x')
		out[17] = 'X';
	if (!isdigit((unsigned char)out[17]) && out[17] != 'X')
		return hc_err_set(err, HC_ERR_PERMANENT, "resident ID must end with a digit or X");
	if (digits(out, 2) < 11 || digits(out, 2) > 91)
		return hc_err_set(err, HC_ERR_PERMANENT, "resident ID has an unknown region");
	y = digits(out + 6, 4);
	m = digits(out + 10, 2);
	d = digits(out + 12, 2);
	gmtime_r(&now, &tm);
	if (y < 1900 || y > tm.tm_year + 1900 || m < 1 || m > 12)
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "resident ID has an impossible birth date");
	maxd = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d < 1 || d > maxd)
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "resident ID has an impossible birth date");
	if (y == tm.tm_year + 1900 && (m > tm.tm_mon + 1 || (m == tm.tm_mon + 1 && d > tm.tm_mday)))
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "resident ID has a birth date in the future");
	if (resident_id_check_char(out) != out[17])
		return hc_err_set(err, HC_ERR_PERMANENT, "resident ID check character is wrong");
	return 0;
}

int resident_id_check(const char *text, hc_err *err)
{
	char normalised[RESIDENT_ID_LEN + 1];

	return resident_id_normalise(text, normalised, err);
}

int mobile_phone_check(const char *text, hc_err *err)
{
	size_t i;

	for (i = 0; text[i] >= '0' && text[i] <= '9'; i++)
		;
	if (i != 11 || text[i] != '\0' || text[0] != '1' || text[1] < '3')
		return hc_err_set(err, HC_ERR_PERMANENT, "must be an 11-digit mobile number");
	return 0;
}
