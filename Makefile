# csgb: build, test, benchmark. Every target works on a fresh machine after `make setup`.
SWIFT        ?= swift
RELEASE_BIN  := .build/release/csgb
DEBUG_BIN    := .build/debug/csgb
APT_PACKAGES := liburing-dev libnuma-dev linux-perf python3-matplotlib libboost-context-dev libboost-fiber-dev librust-tokio-dev librust-libc-dev cargo golang-go g++ make procps util-linux libcap2-bin \
                man-db openssh-server openssh-client parallel rsync iproute2

.PHONY: install uninstall dist fleet-selftest cli-docs check-links sweep-kernel sweep-scale sweep-indirect all setup build release release-static test baselines floor bench bench-static demo sweep sweep-baselines record stop-latency compare clean

all: build

# Installs what csgb, its tests and its experiments need (Debian; run as root).
setup:
	@if [ "$$(id -u)" != 0 ]; then echo "make setup installs Debian packages: run it as root (sudo make setup)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES)

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# The same release build with the Swift runtime linked in: its thread-local accesses
# become direct ones (and the binary runs without a Swift toolchain).
STATIC_BIN := .build-static/release/csgb
# liburing and libnuma are linked from their static archives too (a folder holding only
# liburing.a and libnuma.a comes first in the linker's search), so that the binary needs
# no liburing2/libnuma1 where it runs; packaging/static-libs.sh names a missing one.
STATIC_LIBS := .build-static/static-libs
release-static:
	packaging/static-libs.sh $(STATIC_LIBS) uring numa
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static -Xlinker -L$(CURDIR)/$(STATIC_LIBS)

# Installed layout: the binary, its man page (generated from the argument parser by
# swift-argument-parser's generate-manual, dated by the commit) and bash, zsh and fish
# completions (csgb --generate-completion-script). make install lists what it
# installed; make uninstall removes those files and nothing else.
PREFIX  ?= /usr/local
DESTDIR ?=
GENERATE_MANUAL := .build/debug/generate-manual
INSTALLED := bin/csgb share/man/man1/csgb.1 share/bash-completion/completions/csgb \
             share/zsh/site-functions/_csgb share/fish/vendor_completions.d/csgb.fish
STAGE := .build/stage

$(GENERATE_MANUAL):
	$(SWIFT) build --product generate-manual

INSTALL_BIN ?= $(RELEASE_BIN)
install: $(if $(filter $(RELEASE_BIN),$(INSTALL_BIN)),release) $(GENERATE_MANUAL)
	packaging/stage.sh $(INSTALL_BIN) $(GENERATE_MANUAL) $(STAGE)
	@for f in $(INSTALLED); do \
	  case $$f in bin/*) mode=755;; *) mode=644;; esac; \
	  install -D -m $$mode $(STAGE)/$$f "$(DESTDIR)$(PREFIX)/$$f" || exit 1; \
	  echo "installed $(DESTDIR)$(PREFIX)/$$f"; \
	done

uninstall:
	@for f in $(INSTALLED); do \
	  if [ -e "$(DESTDIR)$(PREFIX)/$$f" ]; then rm -f "$(DESTDIR)$(PREFIX)/$$f" && echo "removed $(DESTDIR)$(PREFIX)/$$f" || exit 1; \
	  else echo "not installed: $(DESTDIR)$(PREFIX)/$$f"; fi; \
	done

# csgb-<version>-linux-<arch>.tar.gz: the static build (no Swift toolchain, liburing or
# libnuma needed where it runs), the installed layout above, every tracked file under
# experiments/ but results/, and packaging/README-archive.md as its README.
dist: release-static $(GENERATE_MANUAL)
	packaging/dist.sh $(STATIC_BIN) $(GENERATE_MANUAL) .build-static/dist

# docs/fleet.md's recipe for real, as root, in at most 3 minutes: two hosts on this
# machine (network, UTS and mount namespaces, each with its own sshd and keys made
# for the run), GNU parallel sends them an archive packed as make dist packs it
# (with the release build: a static build would double CI's build time, and the
# hosts are this machine), the sweeps' folders come back over ssh, merge and
# compare --by host must find the two hosts alike; one host is cut off and resumed.
# Leaves no namespace, process, key or folder. fleet/selftest.sh says what it checks.
FLEET_BIN ?= $(RELEASE_BIN)
fleet-selftest: $(if $(filter $(RELEASE_BIN),$(FLEET_BIN)),release) $(GENERATE_MANUAL)
	packaging/dist.sh --shared $(FLEET_BIN) $(GENERATE_MANUAL) .build/fleet-dist
	archive=.build/fleet-dist/csgb-$$($(FLEET_BIN) --version | awk '{print $$2}')-linux-$$(uname -m).tar.gz; \
	packaging/archive-check.sh $$archive && fleet/selftest.sh $$archive

baselines:
	$(MAKE) -C experiments/baselines

# The unit and end-to-end tests. The baselines are built too, so a C change that
# breaks them fails here rather than in `make bench`. Serial, because end-to-end
# runs pin to CPU 0 and would disturb each other's switch counts. Then the sweep's
# self-test: manifests, CSV/JSON, plots and summary on synthetic reports (no csgb run),
# the experiments' tests (a fake csgb), the links, docs/cli.md against the parser and
# the docs against the code (every option and file they name, architecture.md's list).
# Last, make install/uninstall into a temporary DESTDIR and the fleet self-test, both
# with the debug build the tests just made (a release build would add minutes to CI;
# what they check is the packaging and the fleet path, not the figures).
test: baselines $(GENERATE_MANUAL)
	$(SWIFT) build
	$(SWIFT) test --no-parallel
	python3 experiments/sweep.py --self-test
	python3 experiments/tests/experiments_test.py --csgb $(DEBUG_BIN)
	python3 experiments/check_links.py
	python3 experiments/cli_docs.py --check --csgb $(DEBUG_BIN)
	python3 experiments/tests/docs_test.py --csgb $(DEBUG_BIN)
	packaging/install-check.sh $(MAKE) INSTALL_BIN=$(DEBUG_BIN)
	$(MAKE) fleet-selftest FLEET_BIN=$(DEBUG_BIN)

# docs/cli.md's option reference, regenerated from the parser (csgb --experimental-dump-help);
# `make test` fails until it matches the binary.
cli-docs:
	$(SWIFT) build
	python3 experiments/cli_docs.py --csgb $(DEBUG_BIN)

# Every relative link and #anchor in README.md, docs/ and experiments/README.md resolves.
check-links:
	python3 experiments/check_links.py

# The main job: a short pinned socket run with its report, then the same echo in
# green mode verified under perf (exits 3 if the mode did not do what it claims).
demo: release
	$(RELEASE_BIN) info
	$(RELEASE_BIN) socket 1 --mode thread --cpus 0 --duration 2
	@echo "demo: the next run is traced: perf's syscall tracepoints slow every syscall, so its"
	@echo "demo: 'ns (traced)' cannot be compared with the untraced ns/iteration above"
	$(RELEASE_BIN) stat -- socket 1 --mode green --cpus 0 --duration 2

# The Swift runtime floor (experiments/floor, its own package so that `make test`
# does not build it): continuation resume + enqueue + run alone, beside tokio_notify.
# swift_floor_static: the same with the Swift runtime linked in (direct TLS accesses).
floor: baselines
	$(SWIFT) build -c release --package-path experiments/floor
	cp experiments/floor/.build/release/swift-floor experiments/baselines/bin/swift_floor
	$(SWIFT) build -c release --static-swift-stdlib --package-path experiments/floor --scratch-path experiments/floor/.build-static
	cp experiments/floor/.build-static/release/swift-floor experiments/baselines/bin/swift_floor_static

# csgb against the baselines (C, Boost, tokio, Go, the Swift floor), pinned to CPU 0,
# median of 5 interleaved runs per case; ratios and the per-hop breakdown at the end.
bench: release baselines floor
	python3 experiments/bench.py --csgb $(RELEASE_BIN)

# The same with every csgb case also run from the static-stdlib build, interleaved.
bench-static: release release-static baselines floor
	python3 experiments/bench.py --csgb $(RELEASE_BIN) --csgb-static $(STATIC_BIN)

# The experiment sweep: modes x N x pinning x work size from a manifest; CSV, JSON,
# plots and summary.md in a new experiments/results/<date>T<time>-<host>-default/. Under 3 minutes on 2 cores.
sweep: release
	python3 experiments/sweep.py experiments/manifests/default.json

# What changes a kernel switch's cost (experiments/manifests/kernel.json): thread vs
# process x --spec ibpb x --sched fifo x work size, green/async beside; under 5 minutes.
# kernel-summary.md in the new folder says what each knob adds per switch.
sweep-kernel: release
	out=experiments/results/$$(date -u +%Y-%m-%dT%H%M%S)-$$(hostname -s)-kernel; \
	python3 experiments/sweep.py experiments/manifests/kernel.json --out $$out; status=$$?; \
	python3 experiments/kernel_summary.py $$out && exit $$status

# csgb beside the baselines at N = 1, 10, 100 (experiments/manifests/baselines.json).
# Each mode from 1 actor to the machine's limits (socket to the descriptor limit,
# yield to a million green threads and tasks, thread mode to kernel.pid_max): ns,
# memory per actor and set-up time against N, and where each curve bends. A
# million green threads need vm.max_map_count above 2,000,000 (csgb says so).
sweep-scale: release
	out=experiments/results/$$(date -u +%Y-%m-%dT%H%M%S)-$$(hostname -s)-scale; \
	python3 experiments/sweep.py experiments/manifests/scale.json --out $$out; status=$$?; \
	python3 experiments/scale_summary.py $$out && exit $$status

# The classic figure of a switch's indirect cost (experiments/manifests/indirect.json):
# one csgb cost per working set, walk and stride; total, direct and indirect ns per
# switch against working set, caches drawn in; about 6 minutes on 2 cores.
sweep-indirect: release
	python3 experiments/sweep_indirect.py experiments/manifests/indirect.json

sweep-baselines: release baselines
	python3 experiments/sweep.py experiments/manifests/baselines.json

# Frame pointers so that perf record -g walks Swift stacks (Swift omits them in -O).
FP_FLAGS := -Xswiftc -Xcc -Xswiftc -fno-omit-frame-pointer -Xcc -fno-omit-frame-pointer
# A thin wrapper over `csgb explain`: thread vs green, flame graphs and timeline into
# a new folder per run, experiments/results/<date>T<time>-<host>-record/ (nothing
# tracked is rewritten; commit the folder to keep it).
RECORD_OUT = experiments/results/$(shell date -u +%Y-%m-%dT%H%M%S)-$(shell hostname -s)-record
record:
	$(SWIFT) build -c release --scratch-path .build-fp $(FP_FLAGS)
	.build-fp/release/csgb explain --out $(RECORD_OUT) -- socket 1 --cpus 0

# Results compared across builds, kernels and hosts (experiments/compare.py): median,
# 95 % interval, ratio and Mann-Whitney U per case; INPUTS are files of csgb JSON reports,
# sweep folders or bench.py JSON. e.g. make compare INPUTS="a.json b.json" COMPARE_FLAGS="--by host"
compare:
	@if [ -z "$(INPUTS)" ]; then echo 'usage: make compare INPUTS="A B [C ...]" [COMPARE_FLAGS="--by host --format markdown --plot DIR"]' >&2; exit 64; fi
	python3 experiments/compare.py $(INPUTS) $(COMPARE_FLAGS)

# Time from SIGINT/SIGTERM to the report and to exit, per mode.
stop-latency: release
	python3 experiments/stop_latency.py --csgb $(RELEASE_BIN)

clean:
	rm -rf .build .build-fp .build-static experiments/floor/.build experiments/floor/.build-static experiments/baselines/bin
