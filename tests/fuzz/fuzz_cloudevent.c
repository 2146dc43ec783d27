/* Fuzzes CloudEvent decoding: whatever decodes re-encodes and decodes to the same event. */
#include "common/event/cloudevent.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cloudevent ev, back;
	hc_err err;
	char *text;

	if (cloudevent_decode(&ev, (const char *)data, size, &err) != 0)
		return 0;
	text = cloudevent_encode(&ev);
	FUZZ_ASSERT(cloudevent_decode(&back, text, strlen(text), &err) == 0);
	FUZZ_ASSERT(strcmp(ev.id, back.id) == 0 && strcmp(ev.type, back.type) == 0);
	FUZZ_ASSERT(strcmp(ev.source, back.source) == 0 && strcmp(ev.subject, back.subject) == 0);
	FUZZ_ASSERT(strcmp(ev.traceparent, back.traceparent) == 0);
	FUZZ_ASSERT(json_equal(ev.data, back.data));
	free(text);
	cloudevent_cleanup(&ev);
	cloudevent_cleanup(&back);
	return 0;
}
