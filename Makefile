# adalora: build, test and run.
#
#   make            static library, driver build/adalora and tests, in build/
#   make run        the main job on built-in defaults (installs packages first)
#   make test       float and double test suites, ending "tests: N passed, N failed"
#   make bench      the quick benchmarks -> experiments/results/BENCHMARKS.md (FULL=1: all)
#   make deps       installs the Debian packages that are missing (apt-get, as root)
#   make PRECISION=double   builds everything in double precision
#   make crosscheck  the double driver against the PyTorch reference (tests/crosscheck/)
#
# Each precision builds into its own tree (build/float, build/double), so the
# tests of both can exist side by side; build/adalora is the float driver.

PRECISION ?= float
ifeq ($(PRECISION),double)
  PREC_FLAGS := -DADA_DOUBLE
else ifeq ($(PRECISION),float)
  PREC_FLAGS :=
else
  $(error PRECISION=$(PRECISION): allowed values are float and double)
endif

CC  ?= cc
CXX ?= c++
# -O2: optimise without -ffast-math, which would reorder the float sums the
#      tests compare bit for bit and change NaN handling.
# No -march=native: a build must give the same numbers on every x86-64 CI
#      machine; speed comes from BLAS, which picks its kernels at run time.
# -MMD -MP: header dependencies, so editing a header rebuilds what uses it.
OPT      ?= -O2
WARN     := -Wall -Wextra
CFLAGS   += -std=c11 $(OPT) $(WARN) $(PREC_FLAGS) -MMD -MP -Ilib -Ireference_svd
CXXFLAGS += -std=c++17 $(OPT) $(WARN) $(PREC_FLAGS) -MMD -MP -Ilib -Ireference_svd -Idriver
# OpenBLAS provides the CBLAS interface; LAPACKE sits on top (reference_svd/).
LDLIBS   += -llapacke -lopenblas -lz -lm -lpthread

BUILD ?= build/$(PRECISION)

# Build in parallel on every core unless the caller chose -j; sub-makes
# (MAKELEVEL > 0) share their parent's job server instead.
ifeq ($(MAKELEVEL),0)
  ifeq ($(filter -j%,$(MAKEFLAGS)),)
    MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
  endif
endif

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A    := $(BUILD)/libadalora.a

# reference_svd/ is a second library on top of lib/ (it adds LAPACKE).
REF_SRC  := $(wildcard reference_svd/*.c)
REF_OBJ  := $(REF_SRC:%.c=$(BUILD)/%.o)
REF_A    := $(BUILD)/libadalora_ref.a

# The driver is a library (everything but main.cpp, also linked into the
# tests) plus its main.
DRIVER_SRC := $(filter-out driver/main.cpp,$(wildcard driver/*.cpp))
DRIVER_OBJ := $(DRIVER_SRC:%.cpp=$(BUILD)/%.o)
DRIVER_A   := $(BUILD)/libadalora_driver.a
DRIVER     := $(BUILD)/adalora

TEST_SRC := $(wildcard tests/*.cpp)
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/test_adalora

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential libopenblas-dev liblapacke-dev doctest-dev \
                libbenchmark-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev \
                gnuplot-nox zlib1g-dev python3-torch python3-numpy

.PHONY: all lib driver tests run test test-one deps clean experiments bench crosscheck
all: lib driver tests
	@if [ "$(PRECISION)" = float ]; then cp $(DRIVER) build/adalora; fi

lib: $(LIB_A) $(REF_A)
driver: $(DRIVER)
tests: $(TEST_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(REF_A): $(REF_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(DRIVER_A): $(DRIVER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Libraries in dependency order on the link line: driver, reference, core.
$(DRIVER): $(BUILD)/driver/main.o $(DRIVER_A) $(REF_A) $(LIB_A)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The tests also run the driver binary of their own build (beside them).
$(TEST_BIN): $(TEST_OBJ) $(DRIVER_A) $(REF_A) $(LIB_A) | $(DRIVER)
	$(CXX) $(CXXFLAGS) $(TEST_OBJ) $(DRIVER_A) $(REF_A) $(LIB_A) -o $@ $(LDLIBS)

deps:
	@bash tools/install-deps.sh $(DEB_PACKAGES)

# The main job on built-in defaults: AdaLoRA on the planted-rank MLP (the
# loss, b(t) and every layer's kept rank as it trains), then every method on
# planted-linear at one budget against the Eckart-Young oracle.
run: deps
	@$(MAKE) --no-print-directory all
	@rm -rf build/run && mkdir -p build/run
	build/adalora train --task planted-mlp --method adalora --log lines --out build/run/adalora-mlp
	build/adalora compare --out build/run/compare

# Both precisions: the gradient checks run in double, everything in both.
test: deps
	@$(MAKE) --no-print-directory PRECISION=float tests
	@$(MAKE) --no-print-directory PRECISION=double tests
	@bash tests/run.sh build/float/test_adalora build/double/test_adalora

test-one: tests
	$(TEST_BIN)

# Every suite of experiments/ through the sweep runner, then one report.
# Quick (fewer seeds and steps) by default, under 15 minutes on 2 cores;
# FULL=1 runs the full grids into their own directories. The runs start
# fresh each time (build/experiments*); `adalora sweep` itself resumes.
SUITES      := allocation table4 table5 svd-cost revival orthogonality schedule digits conventions
EXP_RUNS    := build/experiments$(if $(FULL),-full)
EXP_RESULTS := experiments/results$(if $(FULL),-full)
EXP_QUICK   := $(if $(FULL),,--quick)
NPROC       := $(shell nproc 2>/dev/null || echo 2)

experiments: deps
	@$(MAKE) --no-print-directory all
	rm -rf $(EXP_RUNS)
	@for s in $(SUITES); do \
	    echo "== sweep $$s"; \
	    build/adalora sweep $$s --out $(EXP_RUNS) $(EXP_QUICK) --jobs $(NPROC) || exit 1; \
	done
	build/adalora report $(EXP_RUNS) --out $(EXP_RESULTS)

# Benchmarks (experiments/bench/, Google Benchmark; float, the precision
# the targets are about): the quick subset (under 10 minutes on 2 cores), the
# side-by-side PyTorch step, then BENCHMARKS.md; FULL=1 runs the full grid
# into experiments/results-full/. Quick: 3 repetitions, the median counts;
# FULL: 1. Run it on a quiet machine.
BENCH_SRC     := $(wildcard experiments/bench/*.cpp)
BENCH_OBJ     := $(BENCH_SRC:%.cpp=build/float/%.o) build/float/tests/alloc_counter.o
BENCH_BIN     := build/float/adalora_bench
BENCH_RUNS    := build/bench$(if $(FULL),-full)
BENCH_RESULTS := experiments/results$(if $(FULL),-full)

$(BENCH_BIN): $(BENCH_OBJ) build/float/libadalora_driver.a build/float/libadalora_ref.a build/float/libadalora.a
	$(CXX) $(CXXFLAGS) $^ -o $@ -lbenchmark $(LDLIBS) -ldl
$(BENCH_OBJ): CXXFLAGS += -Itests

bench: deps
	@$(MAKE) --no-print-directory PRECISION=float $(BENCH_BIN) build/float/adalora
	rm -rf $(BENCH_RUNS) && mkdir -p $(BENCH_RUNS) $(BENCH_RESULTS)
	$(BENCH_BIN) $(if $(FULL),,--quick) --benchmark_repetitions=$(if $(FULL),1,3) --benchmark_report_aggregates_only=true \
	    --benchmark_out=$(BENCH_RUNS)/bench.json --benchmark_out_format=json
	/usr/bin/python3 experiments/bench/torch_compare.py --driver build/float/adalora --out $(BENCH_RUNS)/torch.json $(if $(FULL),--full)
	/usr/bin/python3 experiments/bench/report.py $(BENCH_RUNS)/bench.json $(BENCH_RUNS)/torch.json --out $(BENCH_RESULTS)/BENCHMARKS.md

# The double-precision driver against the independent PyTorch reference
# (tests/crosscheck/): every preset and importance kind on both planted tasks,
# traced at every step and compared by `adalora trace-diff`.
# Debian's python3-torch is importable only by Debian's own interpreter; a
# pyenv or virtualenv python3 earlier on PATH would not find it.
PYTHON ?= /usr/bin/python3

crosscheck: deps
	@$(MAKE) --no-print-directory PRECISION=double driver
	@bash tests/crosscheck/run.sh build/double/adalora build/crosscheck $(PYTHON)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(REF_OBJ:.o=.d) $(DRIVER_OBJ:.o=.d) $(BUILD)/driver/main.d $(TEST_OBJ:.o=.d)
-include $(BENCH_OBJ:.o=.d)
