# SPDX-License-Identifier: GPL-2.0
#
# virtstack: the one entry point. 'make help' lists the targets.

BUILD         ?= $(CURDIR)/build
KSRC          ?=
EXTRA         ?=
JOBS          ?= $(shell nproc)
GUEST_TIMEOUT ?= 1200
BASELINE      ?=
# make mutate MUTATION="name ...": only these of tools/testing/virtstack/mutations
MUTATION      ?=
# make vng VNG="command": what to run in the virtme-ng guest instead of the kselftests
VNG           ?=
# ARCH=arm64: the main job, kunit and bench for arm64 (cross-built, booted at
# EL2 under qemu-system-aarch64, KVM selftests in nested guests).
ARCH          ?= x86_64

ifeq ($(BASELINE),1)
MODE := baseline
else
MODE := stack
endif
TREE := $(BUILD)/$(MODE)
H    := tools/testing/virtstack

export VS_TOP := $(CURDIR)
export BUILD KSRC EXTRA JOBS GUEST_TIMEOUT MODE MUTATION SIGNOFF VNG

.DEFAULT_GOAL := all

.PHONY: setup all test check kunit run vm vng bench mutate prepare build initramfs apply \
	series check-bisect clean help

# Every target that builds or boots first installs what the host lacks
# (tools/testing/virtstack/packages; as root, or it names the sudo command).
setup:
	@$(H)/setup.sh

all test check kunit run vm vng bench mutate prepare: setup

ifeq ($(ARCH),arm64)
LANES := kunit-arm64 arm64
KUNIT := kunit-arm64
else ifeq ($(filter $(ARCH),x86_64 x86),)
$(error ARCH=$(ARCH): virtstack runs on x86_64 (the default) or arm64 (make ARCH=arm64))
else
LANES := guest
KUNIT := kunit
endif

# make: prepare the tree, build, boot, load the modules, run every KUnit
# suite and guest test, print the verdict.
all test:
	@$(H)/run.sh $(LANES)

# make check: what CI runs. Static checks, kunit.py, the guest run, then
# the arm64 lane (kunit.py --arch=arm64, the VHE and nVHE boots).
check:
	@$(H)/run.sh static kunit guest kunit-arm64 arm64

kunit:
	@$(H)/run.sh $(KUNIT)

# make run EXTRA="prog script ...": the guest run plus the user's programs,
# whose exit status counts in the verdict.
run:
	@test -n "$(EXTRA)" || { echo "virtstack: make run needs EXTRA=<program or script>"; exit 1; }
	@$(H)/run.sh guest

vm: build initramfs
	@$(H)/boot.sh $(TREE) shell

# make vng: the built kernel booted with virtme-ng (Debian 13's, fetched
# into build/, nothing installed), running the stack's kselftests.
vng: prepare
	@$(H)/vng.sh $(TREE) $${VNG:+"$$VNG"}

bench:
	@VS_ARCH=$(ARCH) $(H)/bench.sh

# make mutate: undo each fix of mutations/ in turn (incremental builds of
# the stack tree), boot its test alone, and require the report it names.
mutate:
	@VS_ARCH=$(ARCH) $(H)/run.sh mutate

prepare:
	@$(H)/prepare.sh $(MODE) $(TREE)

build: prepare
	@$(H)/build.sh $(TREE)

initramfs: build
	@$(H)/mkinitramfs.sh $(TREE)

# make apply KSRC=/path: the stack applied in place to the user's tree.
apply:
	@$(H)/export.sh apply

# make series OUT=dir SIGNOFF="Name <addr>": the stack as a git format-patch
# series with a cover letter, signed off by the submitter (required).
series:
	@$(H)/export.sh series $(OUT)

# Builds the tree after each patch of the series in turn.
check-bisect:
	@$(H)/export.sh bisect

clean:
	rm -rf $(BUILD)

help:
	@echo 'make                 build the patched 6.12 kernel, boot it, run every suite, print the verdict'
	@echo 'make check           checkpatch/sparse, kunit.py, then the guest run (what .ci/run calls)'
	@echo 'make kunit           kunit.py run with the suites\' .kunitconfig files (mm, net/9p, ...)'
	@echo 'make ARCH=arm64      the same for arm64: kunit.py --arch=arm64, then the kernel at EL2'
	@echo '                     under qemu-system-aarch64 running the KVM selftests, VHE and nVHE'
	@echo 'make run EXTRA=f     the guest run plus your own program(s) or script(s) in the guest'
	@echo 'make vm              an interactive shell in the patched guest'
	@echo 'make vng             the kernel under virtme-ng (no KVM, 9p root): the stack'"'"'s kselftests'
	@echo '                     (VNG="command": that instead)'
	@echo 'make bench           benchmarks, baseline vs stack, A B A B, medians and ratios'
	@echo 'make BASELINE=1 ...  the same on unpatched 6.12 (same config and harness)'
	@echo 'make mutate          undo each fix of tools/testing/virtstack/mutations in turn;'
	@echo '                     its guest test must report it (MUTATION=name: only that one)'
	@echo 'make apply KSRC=d    apply the stack in place to your 6.12.y tree'
	@echo 'make series OUT=d SIGNOFF="Name <addr>"  export the stack as a git format-patch series,'
	@echo '                     signed off by you (the patches themselves carry no sign-off)'
	@echo 'make check-bisect    build after each patch in turn'
	@echo 'make clean           remove $(BUILD)'
	@echo 'Variables: KSRC= (6.12.y tree; default Debian linux-source-6.12), BUILD=, JOBS=,'
	@echo '           GUEST_TIMEOUT= (seconds), EXTRA=, BASELINE=1'
	@echo '           make bench: ROUNDS= (A B pairs), BENCH=name (one benchmark),'
	@echo '           KERNELS=stack (no baseline kernel), ICOUNT=1 (qemu -icount: guest'
	@echo '           time counts instructions)'
