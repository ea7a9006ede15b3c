# adalora: build, test and run.
#
#   make            static library, driver build/adalora and tests, in build/
#   make run        the main job on built-in defaults (installs packages first)
#   make test       float and double test suites, ending "tests: N passed, N failed"
#   make bench      the quick benchmarks -> experiments/results/BENCHMARKS.md (FULL=1: all)
#   make experiments  every suite's quick grid -> build/experiments-report/REPORT.md (FULL=1: the full
#                   grids, resumed from and saved into experiments/results/runs/, -> experiments/results/)
#   make deps       installs the Debian packages that are missing (apt-get, as root)
#   make PRECISION=double   builds everything in double precision
#   make crosscheck  the double driver against the PyTorch reference (tests/crosscheck/)
#   make crosscheck-peft  the driver against the real Hugging Face PEFT, step by step
#   make test SANITIZE=1    the same tests under AddressSanitizer and UBSan
#   make fuzz       each libFuzzer target of tests/fuzz/ for FUZZ_SECONDS (60)
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
# Include roots: C code names lib and reference_svd headers plainly ("model.h");
# C++ names a driver or harness header by its layer ("train/run.h",
# "harness/sweep.h"), so every include says which layer it reaches into.
# lib/hosts/ (the host networks, BERT's encoder) is part of the lib layer and
# its archive; the core in lib/ itself never includes a host.
CFLAGS   += -std=c11 $(OPT) $(WARN) $(PREC_FLAGS) -MMD -MP -Ilib -Ilib/hosts -Ireference_svd
CXXFLAGS += -std=c++17 $(OPT) $(WARN) $(PREC_FLAGS) -MMD -MP -Ilib -Ilib/hosts -Ireference_svd -Idriver -Iexperiments
# OpenBLAS provides the CBLAS interface; LAPACKE sits on top (reference_svd/).
LDLIBS   += -llapacke -lopenblas -lz -lm -lpthread

# SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer, every report
# fatal, into trees of their own (build/float-san, build/double-san).
SANITIZE ?=
ifeq ($(SANITIZE),1)
  SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  # -O1, as the sanitizers' manuals suggest: reports keep their line numbers
  # and the instrumented build compiles about a third faster (CI time).
  OPT        := -O1
  # GCC warns of uninitialised values inside libstdc++'s <regex> only when
  # ASan instruments it (false positives, as GCC's manual says of
  # -Wmaybe-uninitialized with sanitizers); the plain build keeps the warning.
  CFLAGS     += $(SAN_FLAGS) -Wno-maybe-uninitialized
  CXXFLAGS   += $(SAN_FLAGS) -Wno-maybe-uninitialized
  SAN_SUFFIX := -san
else ifneq ($(SANITIZE),)
  $(error SANITIZE=$(SANITIZE): allowed values are 1 and empty)
endif

# FUZZ=1 (set by `make fuzz` for its sub-make): clang with libFuzzer's
# coverage hooks and both sanitizers, into build/fuzz, in float.
ifeq ($(FUZZ),1)
  CC    := clang
  CXX   := clang++
  FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g
  CFLAGS     += $(FUZZ_FLAGS)
  CXXFLAGS   += $(FUZZ_FLAGS)
  BUILD      := build/fuzz
endif

BUILD ?= build/$(PRECISION)$(SAN_SUFFIX)

# The tests hand the C library out-of-range enum values on purpose, as any C
# caller may (a C enum is an int), and use them as sentinels; holding one in
# a C++ enum is what UBSan's `enum` check reports, so the test files (only)
# go without that one check. The library and the driver keep it.
ifeq ($(SANITIZE),1)
  $(BUILD)/tests/%.o: CXXFLAGS += -fno-sanitize=enum
endif

# Build in parallel on every core unless the caller chose -j; sub-makes
# (MAKELEVEL > 0) share their parent's job server instead.
ifeq ($(MAKELEVEL),0)
  ifeq ($(filter -j%,$(MAKEFLAGS)),)
    MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
  endif
endif

# One static archive per layer folder, linked from the top layer down, so an
# object that calls a layer above its own finds the symbol unresolved and the
# link fails (README, layout). Bottom to top:
#   lib/                    libadalora.a          C11 core, BLAS only
#   reference_svd/          libadalora_ref.a      C11, adds LAPACKE
#   driver/base/            libdriver_base.a      errors, text helpers
#   driver/config/          libdriver_config.a    RunConfig, options, conventions
#   driver/formats/         libdriver_formats.a   npy, safetensors, adapter files
#   driver/tasks/           libdriver_tasks.a     planted tasks, digits, oracle
#   driver/train/           libdriver_train.a     methods, the run, checkpoints
#   experiments/harness/    libharness.a          sweep, the report skeleton (no suite named)
#   experiments/suites/     libsuites.a           each suite's metrics, claims, plots; the registry
#   driver/cli/             libdriver_cli.a       the commands (main.cpp apart)
layer_src = $(wildcard $(1)/*.c $(1)/*.cpp)
layer_obj = $(patsubst %.cpp,$(BUILD)/%.o,$(patsubst %.c,$(BUILD)/%.o,$(call layer_src,$(1))))

LIB_OBJ  := $(call layer_obj,lib) $(call layer_obj,lib/hosts)
LIB_A    := $(BUILD)/libadalora.a
REF_OBJ  := $(call layer_obj,reference_svd)
REF_A    := $(BUILD)/libadalora_ref.a

# The C++ layers, bottom to top: folder and archive name.
CXX_LAYERS := driver/base:driver_base driver/config:driver_config driver/formats:driver_formats \
              driver/tasks:driver_tasks driver/train:driver_train experiments/harness:harness \
              experiments/suites:suites driver/cli:driver_cli
layer_dir  = $(word 1,$(subst :, ,$(1)))
layer_name = $(word 2,$(subst :, ,$(1)))
layer_a    = $(BUILD)/lib$(call layer_name,$(1)).a
DRIVER_MAIN := driver/cli/main.cpp
# Archives top layer first (the link order), then the C libraries.
CXX_ARCHIVES := $(foreach l,$(shell echo $(CXX_LAYERS) | tr ' ' '\n' | tac),$(call layer_a,$(l)))
ARCHIVES     := $(CXX_ARCHIVES) $(REF_A) $(LIB_A)
CXX_OBJ      := $(filter-out $(BUILD)/$(DRIVER_MAIN:.cpp=.o),$(foreach l,$(CXX_LAYERS),$(call layer_obj,$(call layer_dir,$(l)))))
DRIVER       := $(BUILD)/adalora

# Every layer folder, bottom to top, for tools/check-layers.sh.
LAYER_DIRS := lib lib/hosts reference_svd $(foreach l,$(CXX_LAYERS),$(call layer_dir,$(l)))
check-layers:
	@bash tools/check-layers.sh $(LAYER_DIRS)

# Every test source below tests/ but the fuzz targets and the cross-check.
TEST_SRC := $(shell find tests -name '*.cpp' -not -path 'tests/fuzz/*' -not -path 'tests/crosscheck/*' | sort)
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/test_adalora

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential libopenblas-dev liblapacke-dev doctest-dev \
                libbenchmark-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev \
                gnuplot-nox zlib1g-dev python3-torch python3-numpy python3-venv

.PHONY: all lib driver tests run test test-one deps clean experiments bench crosscheck crosscheck-peft fuzz fuzz-targets list-suites check-layers FORCE
all: lib driver tests
	@if [ "$(PRECISION)" = float ] && [ -z "$(SANITIZE)" ]; then cp $(DRIVER) build/adalora; fi

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

# One archive rule per C++ layer.
define cxx_layer_rule
$(call layer_a,$(1)): $(filter-out $(BUILD)/$(DRIVER_MAIN:.cpp=.o),$(call layer_obj,$(call layer_dir,$(1))))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(CXX_LAYERS),$(eval $(call cxx_layer_rule,$(l))))

$(DRIVER): $(BUILD)/$(DRIVER_MAIN:.cpp=.o) $(ARCHIVES)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The tests also run the driver binary of their own build (beside them).
$(TEST_BIN): $(TEST_OBJ) $(ARCHIVES) | $(DRIVER)
	$(CXX) $(CXXFLAGS) $(TEST_OBJ) $(ARCHIVES) -o $@ $(LDLIBS)

# Test and benchmark sources also name the shared test support by folder
# ("support/sandbox.h"); the product code cannot.
$(TEST_OBJ): CXXFLAGS += -Itests

# The commit the binaries are built from, embedded in driver/train/machine.o
# (summary.json's machine.commit); the script rewrites the header only when
# the commit or the dirty flag changed, so this recompiles one file at most.
BUILD_COMMIT_H := $(BUILD)/generated/build_commit.h
$(BUILD_COMMIT_H): FORCE
	@bash tools/build-commit.sh $@
$(BUILD)/driver/train/machine.o: $(BUILD_COMMIT_H)
$(BUILD)/driver/train/machine.o: CXXFLAGS += -I$(BUILD)
FORCE:

# The suites are experiments/suites/*.toml; `make list-suites` names them.
SUITES ?= $(sort $(basename $(notdir $(wildcard experiments/suites/*.toml))))
list-suites:
	@echo $(SUITES)

deps:
	@bash tools/install-deps.sh $(DEB_PACKAGES)
	@bash tools/install-assets.sh

# The main job on built-in defaults: AdaLoRA on the planted-rank MLP (the
# loss, b(t) and every layer's kept rank as it trains), then every method on
# planted-linear at one budget against the Eckart-Young oracle, then the real
# model: AdaLoRA fine-tuning MiniLM (all six matrices of its 6 layers) on the
# Yelp sentences, printing the loss, b(t), the dev accuracy and the kept rank
# of every layer and matrix type (under 3 minutes on 2 cores).
DEMO_OPTIONS := --init_r 8 --target_r 2 --total_step 200 --tinit 30 --tfinal 60 --deltaT 10 --batch 16 \
                --lr 5e-3 --eval-every 50 --log lines --log-every 20
run: deps
	@$(MAKE) --no-print-directory all
	@rm -rf build/run && mkdir -p build/run
	build/adalora train --task planted-mlp --method adalora --log lines --out build/run/adalora-mlp
	build/adalora compare --out build/run/compare
	build/adalora train --task sentiment-yelp --method adalora $(DEMO_OPTIONS) --out build/run/adalora-yelp

# Both precisions: the gradient checks run in double, everything in both.
# With SANITIZE=1 (passed on to the sub-makes) the sanitized trees; the
# options make every report fatal, also in the driver binaries the tests run.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:malloc_context_size=8 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test: deps check-layers
	@$(MAKE) --no-print-directory PRECISION=float tests
	@$(MAKE) --no-print-directory PRECISION=double tests
	@$(if $(SAN_SUFFIX),$(SAN_ENV)) bash tests/run.sh build/float$(SAN_SUFFIX)/test_adalora build/double$(SAN_SUFFIX)/test_adalora

test-one: tests
	$(TEST_BIN)

# Every suite of experiments/ through the sweep runner, then one report.
# Quick (one seed, fewer steps; about 21 minutes on 2 cores after the build):
# the runs and the report go to build/ (build/experiments/, its REPORT.md in
# build/experiments-report/), fresh each time. FULL=1: the full grids,
# resumed from the per-cell results committed in experiments/results/runs/
# (tools/experiments-full.sh: the missing cells run, the finished ones are
# copied back there to be committed, then experiments/results/REPORT.md is
# written from them); SHARD=i/N runs one part of every grid (a machine of a
# cluster, or a session of a day), SUITES="a b" a subset.
EXP_QUICK_RUNS   := build/experiments
EXP_QUICK_REPORT := build/experiments-report
NPROC            := $(shell nproc 2>/dev/null || echo 2)
SHARD            ?= 1/1

experiments: deps
	@$(MAKE) --no-print-directory all
ifdef FULL
	bash tools/experiments-full.sh build/adalora $(SHARD) $(NPROC) $(SUITES)
else
	rm -rf $(EXP_QUICK_RUNS)
	@for s in $(SUITES); do \
	    echo "== sweep $$s (quick)"; \
	    build/adalora sweep $$s --out $(EXP_QUICK_RUNS) --quick --jobs $(NPROC) || exit 1; \
	done
	build/adalora report $(EXP_QUICK_RUNS) --out $(EXP_QUICK_REPORT) --replace
endif

# Benchmarks (experiments/bench/, Google Benchmark; float, the precision
# the targets are about): the quick subset (under 10 minutes on 2 cores), the
# side-by-side PyTorch step, then BENCHMARKS.md; FULL=1 runs the full grid
# into experiments/results-full/. Quick: 3 repetitions, the median counts;
# FULL: 1. Run it on a quiet machine.
BENCH_SRC     := $(wildcard experiments/bench/*.cpp)
BENCH_OBJ     := $(BENCH_SRC:%.cpp=build/float/%.o) build/float/tests/support/alloc_counter.o
BENCH_BIN     := build/float/adalora_bench
BENCH_RUNS    := build/bench$(if $(FULL),-full)
BENCH_RESULTS := experiments/results$(if $(FULL),-full)

$(BENCH_OBJ): CXXFLAGS += -Itests
$(BENCH_BIN): $(BENCH_OBJ) $(ARCHIVES)
	$(CXX) $(CXXFLAGS) $^ -o $@ -lbenchmark $(LDLIBS) -ldl

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

# Then the encoder host on the MiniLM checkpoint against transformers and
# torch autograd (tests/crosscheck/encoder.sh), and the tokenizer against
# transformers' on every sentence of the sentence tasks, with the pinned
# packages of the project's virtual environment (make deps).
VENV_PYTHON := build/venv/bin/python

crosscheck: deps
	@$(MAKE) --no-print-directory PRECISION=double driver
	@$(MAKE) --no-print-directory PRECISION=float driver
	@bash tests/crosscheck/run.sh build/double/adalora build/crosscheck $(PYTHON)
	@bash tests/crosscheck/encoder.sh build/float/adalora build/double/adalora build/crosscheck-encoder $(VENV_PYTHON)
	@bash tests/crosscheck/tokenizer.sh build/double/adalora build/crosscheck-tokenizer $(VENV_PYTHON)
# The driver against the real Hugging Face PEFT (pinned in requirements.txt,
# installed into build/venv by make deps): the peft preset's budgets against
# PEFT's budget_schedule over 2000 schedules, then every case of
# tests/crosscheck/peft.sh replayed through PEFT's own AdaLoRA and compared by
# trace-diff at 1e-9 (planted tasks and the MiniLM encoder, float64), then
# adapters both ways on MiniLM: our export loaded by PEFT, PEFT's
# save_pretrained read by our import, logits within 1e-5 (float).
crosscheck-peft: deps
	@$(MAKE) --no-print-directory PRECISION=double driver
	@$(MAKE) --no-print-directory PRECISION=float driver
	@$(VENV_PYTHON) tests/crosscheck/peft_budget.py build/double/adalora
	@bash tests/crosscheck/peft.sh build/double/adalora build/crosscheck-peft $(VENV_PYTHON) build/assets/all-MiniLM-L6-v2
	@bash tests/crosscheck/peft_adapters.sh build/float/adalora build/crosscheck-peft-adapters $(VENV_PYTHON)

# libFuzzer targets (tests/fuzz/fuzz_NAME.cpp), each built once the parser it
# calls exists. tests/fuzz/run.sh runs each for FUZZ_SECONDS from a
# scratch copy of tests/fuzz/corpus/NAME and fails on any crash.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/fuzz_%.cpp,%,$(wildcard tests/fuzz/fuzz_*.cpp)))
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
# clang-14 only recommends the runtime that holds libFuzzer (Debian 12).
FUZZ_PACKAGES := clang libclang-rt-14-dev

fuzz:
	@bash tools/install-deps.sh $(DEB_PACKAGES) $(FUZZ_PACKAGES)
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-targets
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-targets: $(FUZZ_BINS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp tests/fuzz/fuzz_target.h $(ARCHIVES)
	$(CXX) $(CXXFLAGS) -fsanitize=fuzzer $< $(ARCHIVES) -o $@ $(LDLIBS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(REF_OBJ:.o=.d) $(CXX_OBJ:.o=.d) $(BUILD)/$(DRIVER_MAIN:.cpp=.d) $(TEST_OBJ:.o=.d) $(FUZZ_BINS:=.d)
-include $(BENCH_OBJ:.o=.d)
