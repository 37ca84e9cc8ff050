# csgb: build, test, benchmark. Every target works on a fresh machine after `make setup`.
SWIFT        ?= swift
RELEASE_BIN  := .build/release/csgb
DEBUG_BIN    := .build/debug/csgb
APT_PACKAGES := liburing-dev libnuma-dev linux-perf python3-matplotlib libboost-context-dev libboost-fiber-dev librust-tokio-dev librust-libc-dev cargo golang-go g++ make procps util-linux

.PHONY: all setup build release test baselines bench demo sweep record stop-latency clean

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

baselines:
	$(MAKE) -C experiments/baselines

# The unit and end-to-end tests. The baselines are built too, so a C change that
# breaks them fails here rather than in `make bench`. Serial, because end-to-end
# runs pin to CPU 0 and would disturb each other's switch counts.
test: baselines
	$(SWIFT) build
	$(SWIFT) test --no-parallel

# The main job: a short pinned socket run with its report, then the same echo in
# green mode verified under perf (exits 3 if the mode did not do what it claims).
demo: release
	$(RELEASE_BIN) info
	$(RELEASE_BIN) socket 1 --mode thread --cpus 0 --duration 2
	$(RELEASE_BIN) stat -- socket 1 --mode green --cpus 0 --duration 2

# csgb against the C baselines, pinned, median of several interleaved runs.
bench: release baselines
	python3 experiments/bench.py --csgb $(RELEASE_BIN)

# The experiment sweep: modes x N x pinning x work size from a manifest; CSV, JSON,
# plots and summary.md under experiments/results/<date>-<host>/. Under 3 minutes on 2 cores.
sweep: release
	python3 experiments/sweep.py experiments/manifests/default.json

# Frame pointers so that perf record -g walks Swift stacks (Swift omits them in -O).
FP_FLAGS := -Xswiftc -Xcc -Xswiftc -fno-omit-frame-pointer -Xcc -fno-omit-frame-pointer
record:
	$(SWIFT) build -c release --scratch-path .build-fp $(FP_FLAGS)
	python3 experiments/record.py --csgb .build-fp/release/csgb

# Time from SIGINT/SIGTERM to the report and to exit, per mode.
stop-latency: release
	python3 experiments/stop_latency.py --csgb $(RELEASE_BIN)

clean:
	rm -rf .build .build-fp experiments/baselines/bin
