# The health-code platform: one non-recursive Makefile.
#
#   make            build every binary (build/bin) and the unit tests
#   make bins       only the services and the operators' tools (the container image's)
#   make run        install what is missing, start PostgreSQL, Kafka and every service
#   make stop       stop everything `make run` started
#   make test       set up the same way and run every test (unit + integration)
#   make lint       clang-format check and cppcheck
#   make bench      benchmarks (docs/BENCHMARKS.md)
#   make SAN=1 ...  build with AddressSanitizer and UndefinedBehaviorSanitizer
#   make V=1 ...    show full commands

SERVICES := gateway intake review matching certificate codegen analytics
PKGS     := rdkafka libpq jansson libmicrohttpd libcurl openssl libcbor libqrencode

CC      ?= cc
V       ?= 0
SAN     ?= 0
Q       := $(if $(filter 1,$(V)),,@)

ifeq ($(SAN),1)
BUILD    := build/san
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else
BUILD    := build/release
OPTFLAGS := -O2 -g -D_FORTIFY_SOURCE=2
SANLD    :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wpointer-arith -Wundef -Wcast-qual -Wno-cast-qual \
            -Wimplicit-fallthrough -Wnull-dereference
HARDEN   := -fstack-protector-strong -fPIE -fno-strict-aliasing
CFLAGS   := -std=c11 -D_GNU_SOURCE -I. $(OPTFLAGS) $(WARNINGS) $(HARDEN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  := -pie -Wl,-z,relro,-z,now $(SANLD)
LDLIBS   := $(PKG_LIBS) -lpthread

# ---- sources ----
COMMON_SRC := $(sort $(wildcard common/*/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/bus_migrations.o
LIBHC      := $(BUILD)/libhc.a

define service_vars
$(1)_SRC := $$(sort $$(wildcard services/$(1)/*.c services/$(1)/*/*.c))
$(1)_OBJ := $$($(1)_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/$(1)_migrations.o
$(1)_SQL := $$(sort $$(wildcard services/$(1)/migrations/*.sql))
$(1)_DOMAIN_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$(sort $$(wildcard services/$(1)/domain/*.c)))
endef
$(foreach s,$(SERVICES),$(eval $(call service_vars,$(s))))
gateway_OBJ += $(BUILD)/obj/gen/gateway_openapi.o

SERVICE_BINS := $(SERVICES:%=$(BUILD)/bin/hc-%)
TOOL_BINS    := $(BUILD)/bin/hc-topics $(BUILD)/bin/hc-verify $(BUILD)/bin/hc-client $(BUILD)/bin/hc-replay \
                $(BUILD)/tests/county_feed $(BUILD)/tests/token_corpus \
                $(BUILD)/tests/bare_verify $(BUILD)/tests/hc-load
EMBED        := $(BUILD)/bin/embed_sql

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DOMAIN_OBJ := $(foreach s,$(SERVICES),$($(s)_DOMAIN_OBJ))

.PHONY: all bins run stop test lint format bench clean install fuzz
all: $(SERVICE_BINS) $(TOOL_BINS) $(UNIT_BINS)
# what the container image ships (deploy/Dockerfile): the services and the operators' tools
IMAGE_BINS := $(SERVICE_BINS) $(BUILD)/bin/hc-topics $(BUILD)/bin/hc-verify \
              $(BUILD)/bin/hc-client $(BUILD)/bin/hc-replay
bins: $(IMAGE_BINS)

# ---- compile ----
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(EMBED): deploy/build/embed_sql.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/bus_migrations.c: $(EMBED) $(sort $(wildcard common/bus/migrations/*.sql))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)$(EMBED) bus_migrations $(sort $(wildcard common/bus/migrations/*.sql)) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/gateway_openapi.c: $(EMBED) proto/openapi.json
	@mkdir -p $(@D)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)$(EMBED) --text gateway_openapi proto/openapi.json > $@.tmp && mv $@.tmp $@

define service_rules
$(BUILD)/gen/$(1)_migrations.c: $(EMBED) $$($(1)_SQL)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  EMBED   $$@")
	$$(Q)$(EMBED) $(1)_migrations $$($(1)_SQL) > $$@.tmp && mv $$@.tmp $$@

$(BUILD)/bin/hc-$(1): $$($(1)_OBJ) $(LIBHC)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$(CC) $(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIBHC) $(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

$(LIBHC): $(COMMON_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/hc-client: $(BUILD)/obj/services/admin/client.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# hc-replay links the projections it rebuilds (each depends on common/ and its domain only)
REPLAY_OBJ := $(addprefix $(BUILD)/obj/services/,admin/replay.o admin/replay_asof.o \
                admin/replay_project.o review/projection.o codegen/projection.o \
                analytics/projection.o) $(review_DOMAIN_OBJ)
$(BUILD)/bin/hc-replay: $(REPLAY_OBJ) $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/county_feed: $(BUILD)/obj/deploy/county/county_feed.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/hc-verify: $(BUILD)/obj/services/admin/verify.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/hc-load: $(BUILD)/obj/tests/tools/load.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/bare_verify: $(BUILD)/obj/tests/bench/bare_verify.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/token_corpus: $(BUILD)/obj/tests/tools/token_corpus.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/hc-topics: $(BUILD)/obj/services/admin/topics.o $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(DOMAIN_OBJ) $(LIBHC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(DOMAIN_OBJ) $(LIBHC) $(LDLIBS)

# ---- libFuzzer targets (clang), one per parser; run by tests/run.sh ----
FUZZ_CC     ?= clang-14
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIBSRC := $(COMMON_SRC) $(sort $(wildcard services/*/domain/*.c))
FUZZ_LIBOBJ := $(FUZZ_LIBSRC:%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -g -O1 $(WARNINGS) $(PKG_CFLAGS) -MMD -MP \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

fuzz: $(FUZZ_BINS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/libhc-fuzz.a: $(FUZZ_LIBOBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o build/fuzz/libhc-fuzz.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# ---- the local stack ----
install:
	deploy/local/install.sh

run: install
	$(MAKE) all
	HC_BUILD=$(CURDIR)/$(BUILD) deploy/local/stack.sh up

stop:
	deploy/local/stack.sh down

test: install
	$(MAKE) all fuzz
	HC_BUILD=$(CURDIR)/$(BUILD) tests/run.sh

ALL_C := $(sort $(wildcard common/*/*.c common/*/*.h services/*/*.c services/*/*.h \
           services/*/*/*.c services/*/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c \
           tests/tools/*.c tests/bench/*.c deploy/county/*.c \
           tests/fuzz/*.h deploy/build/*.c))

lint:
	deploy/local/install.sh lint
	clang-format --dry-run --Werror $(ALL_C)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	    --suppress=missingIncludeSystem --inline-suppr -I. common services tests/unit deploy/build

format:
	clang-format -i $(ALL_C)

bench: install
	$(MAKE) all
	tests/bench/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
