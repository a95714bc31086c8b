#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vhost_scsi.sh: 4 KiB WRITE_10 and READ_10 commands one at a time through
# /dev/vhost-scsi to the lio lane's LIO target, from the guest test
# vhost_scsi's sustained_rw_returns_data_and_pins case (a user-space
# virtio-scsi driver; vhost-scsi pins each command's data page: patch
# 1004). Its "BENCH vhost_scsi_rw4k ..." lines (and the _kinsn ones under
# ICOUNT=1) go to make bench; a failing case is an error.

ios=${IOS:-2000}
test=/virtstack/tests/vhost_scsi

[ -n "${VIRTSTACK_VHOST_WWPN:-}" ] ||
	{ echo "vhost_scsi.sh: no LIO vhost target (the lio lane did not come up)"; exit 1; }
VIRTSTACK_BENCH_IOS=$ios $test -r vscsi.sustained_rw_returns_data_and_pins > /tmp/vscsi.out 2>&1
rc=$?
sed -n 's/^\(# \)*BENCH /BENCH /p' /tmp/vscsi.out
if [ $rc != 0 ] || ! grep -q '^BENCH ' /tmp/vscsi.out; then
	echo "vhost_scsi.sh: the case failed (exit $rc):"
	sed 's/^/# /' /tmp/vscsi.out
	exit 1
fi
