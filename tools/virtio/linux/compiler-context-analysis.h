/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Since 6.12.118, include/linux/compiler_types.h includes this header for
 * the sparse context macros; the user-space build takes the kernel's own.
 */
#include "../../../include/linux/compiler-context-analysis.h"
