/*
 * The OpenAPI document and the route table as text; see app.h.
 *
 * proto/openapi.json is written by hand and embedded at build; test 78
 * checks it against `hc-gateway routes` both ways (every route documented
 * with its roles, nothing documented that is not routed).
 */
#include <stdio.h>
#include <string.h>

#include "services/gateway/app.h"
#include "services/gateway/domain/auth.h"

extern const char gateway_openapi[];

void gateway_get_openapi(void *app, http_req *req)
{
	(void)app;
	http_reply_header(req, "Cache-Control", "max-age=300");
	http_reply_bytes(req, 200, "application/json", gateway_openapi, strlen(gateway_openapi));
}

int gateway_print_routes(const gateway_route *routes, size_t n)
{
	size_t i;
	unsigned bit;

	for (i = 0; i < n; i++) {
		const char *sep = "";

		printf("%s %s %s ", routes[i].method, routes[i].pattern, routes[i].owner);
		if (routes[i].roles == 0)
			printf("public");
		for (bit = 1; bit != 0 && bit <= routes[i].roles; bit <<= 1) {
			if ((routes[i].roles & bit) == 0)
				continue;
			printf("%s%s", sep, auth_role_name(bit));
			sep = ",";
		}
		printf(" %s\n", routes[i].priority ? "priority" : "ordinary");
	}
	return 0;
}
