# EasySKS backend. `make run` / `make test` are the README's quick start.
# Library flags come from pkg-config; nothing is vendored.

SHELL       := /bin/bash
comma       := ,
CC          ?= cc
BUILD       ?= build
SANITIZE    ?=
PKGS        := libpq libcjson libcurl libcrypto fcgi
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# The readiness check refuses a schema older than the newest migration shipped.
SCHEMA_VERSION := $(shell ls sql/migrations 2>/dev/null | sed -n 's/^\([0-9]\{4\}\)_.*\.sql$$/\1/p' | sort | tail -n1 | sed 's/^0*//')

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wmissing-prototypes \
            -Wstrict-prototypes -Wno-format-nonliteral
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -Ilib -Iapp -MMD -MP $(PKG_CFLAGS)
APP_CFLAGS := -DEASYSKS_SCHEMA_VERSION=$(or $(SCHEMA_VERSION),0)
LDFLAGS  += -pie -Wl,-z,relro,-z,now
# The sanitized build prefers clang (SAN_CC): its UBSan also checks
# float-to-integer casts that overflow (-fsanitize=float-cast-overflow,
# which GCC's `undefined` lacks); with GCC the build is the same minus that.
# Every report aborts (no recovery), so no test can pass over one.
SAN_CC   ?= $(if $(shell command -v clang 2>/dev/null),clang,$(CC))
ifneq ($(SANITIZE),)
  BUILD   := build-san
  CC      := $(SAN_CC)
  SAN_ALL := $(SANITIZE)$(if $(and $(findstring undefined,$(SANITIZE)),$(findstring clang,$(shell $(CC) --version 2>/dev/null | head -n1))),$(comma)float-cast-overflow)
  CFLAGS  += -fsanitize=$(SAN_ALL) -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
  LDFLAGS += -fsanitize=$(SAN_ALL)
endif

# lib/: the library in three layers (lib/README.md): core/ (the generic
# base), infra/ (service plumbing), sks/ (the SKS domain); never sees FastCGI.
# app/http + app/api: requests, routing, handlers (libeasysks-http.a, also
# linked by the unit tests). app/pool: master and workers. app/cli: one
# program per file, easysks-<name>.
LIB_SRCS   := $(wildcard lib/core/*.c lib/infra/*.c lib/sks/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_A      := $(BUILD)/libeasysks.a
HTTP_SRCS  := $(wildcard app/http/*.c app/api/*.c)
HTTP_OBJS  := $(HTTP_SRCS:%.c=$(BUILD)/%.o)
HTTP_A     := $(BUILD)/libeasysks-http.a
POOL_SRCS  := $(wildcard app/pool/*.c)
POOL_OBJS  := $(POOL_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS   := $(wildcard app/cli/*.c)
CLI_BINS   := $(CLI_SRCS:app/cli/%.c=$(BUILD)/easysks-%)
# tests/unit/<layer>/test_x.c mirrors lib/<layer>/ (app/ for app/http, app/api).
UNIT_SRCS  := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BINS       := $(BUILD)/easysks-fcgi $(CLI_BINS)

.PHONY: all deps run stop test unit integration bench bench-scaling bench-keepalive \
        bench-levers bench-failover bench-rss bench-profile bench-explain dist tf-check lint fuzz \
        fmt clean staging-local print-san-cc chaos
.DEFAULT_GOAL := all
# Keep test objects between runs (they are intermediate files otherwise).
.SECONDARY:

all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The unit tests' shared helpers (tap.h, the stubs) live in tests/unit/.
$(BUILD)/tests/unit/%.o: CFLAGS += -Itests/unit

$(BUILD)/app/%.o: app/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(APP_CFLAGS) -c -o $@ $<

# Rebuild the readiness check when a migration is added.
$(BUILD)/app/api/health.o: $(wildcard sql/migrations/*.sql)

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(HTTP_A): $(HTTP_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/easysks-fcgi: $(POOL_OBJS) $(HTTP_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/easysks-%: $(BUILD)/app/cli/%.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(HTTP_A) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Installs missing Debian packages and the pinned npm test tooling (idempotent).
deps:
	@deploy/install-deps.sh

run: deps all
	@deploy/local-stack.sh start

stop:
	@deploy/local-stack.sh stop

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

test: deps all $(UNIT_BINS)
	@tests/run-all.sh

integration: deps all
	@tests/integration/run.sh

# The FastCGI ceiling for the bench, built with the same flags as the pool.
$(BUILD)/bench-hello: tests/bench/hello.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs fcgi)

# Side by side with the peer (tests/bench.sh says what each mode measures).
bench: deps all $(BUILD)/bench-hello
	@tests/bench.sh table

bench-scaling bench-keepalive bench-levers bench-failover bench-rss bench-profile bench-explain: \
		deps all $(BUILD)/bench-hello
	@tests/bench.sh $(@:bench-%=%)

# Faults under load against a throwaway stack, a table at the end
# (tests/chaos/run.sh, docs/operations.md): a pre-release step, not part of
# `make test`. CHAOS_SECONDS per scenario.
chaos: deps all
	@tests/chaos/run.sh

# The compiler of the sanitized build (tests/fuzz/run.sh replay links with it).
print-san-cc:
	@echo $(CC)

# libFuzzer on the parsers (needs clang); FUZZ_SECONDS per target.
fuzz:
	@tests/fuzz/run.sh

tf-check:
	@node tests/tf/check.mjs terraform && bash tests/tf/selftest.sh

lint:
	@tests/lint.sh

fmt:
	clang-format -i lib/*/*.[ch] app/*/*.[ch] tests/unit/*.[ch] tests/unit/*/*.c tests/fuzz/*.c

dist: all
	@deploy/dist.sh

staging-local: deps all
	@deploy/staging-local.sh

clean:
	rm -rf build build-san build-fuzz dist

-include $(LIB_OBJS:.o=.d) $(HTTP_OBJS:.o=.d) $(POOL_OBJS:.o=.d) \
         $(CLI_SRCS:%.c=$(BUILD)/%.d) $(UNIT_BINS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d)
