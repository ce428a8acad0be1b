/*
 * Hide CPU features from one process, so a benchmark can time the code paths another x86 CPU
 * would run: e.g. onnxruntime's AVX2 int8 kernels on a CPU that also has AVX-512 VNNI and AMX.
 *
 * Libraries choose their kernels by executing the CPUID instruction (onnxruntime's MLAS,
 * numpy, OpenBLAS, torch's cpuinfo and oneDNN). Linux can make CPUID fault in user space
 * (arch_prctl(ARCH_SET_CPUID, 0), on CPUs with "cpuid_fault" in /proc/cpuinfo; KVM guests
 * have it): this library, loaded by LD_PRELOAD, turns that on before anything else runs and
 * answers each faulting CPUID from its SIGSEGV handler with the real answer minus the bits
 * named in HIDE_CPU_FEATURES (comma-separated groups: avx512, avx_vnni, amx). The setting is
 * inherited by every thread created afterwards. The kernels are then the real ones of the
 * smaller CPU, run on this one: its clock, caches and port layout, not the other CPU's.
 *
 * Built by bench/_cpu_features.py (cc -O2 -shared -fPIC); used through
 * `python bench/embedders.py --hide-cpu-features avx2 ...`. Bit numbers: Intel SDM vol. 2A,
 * CPUID leaf 07H (sub-leaves 0 and 1).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012
#define BIT(n) (1u << (n))

/* leaf 7 sub-leaf 0 EBX: AVX512F, DQ, IFMA, PF, ER, CD, BW, VL */
#define AVX512_LEAF7_EBX (BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
/* leaf 7 sub-leaf 0 ECX: AVX512_VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
#define AVX512_LEAF7_ECX (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
/* leaf 7 sub-leaf 0 EDX: AVX512_4VNNIW, 4FMAPS, VP2INTERSECT, FP16 */
#define AVX512_LEAF7_EDX (BIT(2) | BIT(3) | BIT(8) | BIT(23))
/* leaf 7 sub-leaf 1 EAX: AVX512_BF16; EDX: AVX10 */
#define AVX512_LEAF7_1_EAX BIT(5)
#define AVX512_LEAF7_1_EDX BIT(19)
/* leaf 7 sub-leaf 1 EAX: AVX-VNNI, AVX-IFMA; EDX: AVX-VNNI-INT8, AVX-NE-CONVERT, AVX-VNNI-INT16 */
#define AVX_VNNI_LEAF7_1_EAX (BIT(4) | BIT(23))
#define AVX_VNNI_LEAF7_1_EDX (BIT(4) | BIT(5) | BIT(10))
/* leaf 7 sub-leaf 0 EDX: AMX-BF16, AMX-TILE, AMX-INT8 */
#define AMX_LEAF7_EDX (BIT(22) | BIT(24) | BIT(25))

static int hide_avx512, hide_avx_vnni, hide_amx;
static volatile long answered;
static struct sigaction previous;

static void allow_cpuid(int allowed) { syscall(SYS_arch_prctl, ARCH_SET_CPUID, allowed); }

static void mask(unsigned leaf, unsigned subleaf, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    if (leaf != 7) return;
    if (subleaf == 0) {
        if (hide_avx512) { *b &= ~AVX512_LEAF7_EBX; *c &= ~AVX512_LEAF7_ECX; *d &= ~AVX512_LEAF7_EDX; }
        if (hide_amx) *d &= ~AMX_LEAF7_EDX;
    } else if (subleaf == 1) {
        if (hide_avx512) { *a &= ~AVX512_LEAF7_1_EAX; *d &= ~AVX512_LEAF7_1_EDX; }
        if (hide_avx_vnni) { *a &= ~AVX_VNNI_LEAF7_1_EAX; *d &= ~AVX_VNNI_LEAF7_1_EDX; }
    }
}

static void masked_cpuid(unsigned leaf, unsigned subleaf, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    allow_cpuid(1);
    __cpuid_count(leaf, subleaf, *a, *b, *c, *d);
    allow_cpuid(0);
    mask(leaf, subleaf, a, b, c, d);
}

static void on_fault(int signal_number, siginfo_t *info, void *context) {
    greg_t *registers = ((ucontext_t *)context)->uc_mcontext.gregs;
    const unsigned char *instruction = (const unsigned char *)registers[REG_RIP];
    if (instruction[0] != 0x0f || instruction[1] != 0xa2) {
        /* a real fault: put the previous handler back; the instruction faults again */
        sigaction(SIGSEGV, &previous, NULL);
        return;
    }
    unsigned a, b, c, d;
    masked_cpuid((unsigned)registers[REG_RAX], (unsigned)registers[REG_RCX], &a, &b, &c, &d);
    registers[REG_RAX] = a;
    registers[REG_RBX] = b;
    registers[REG_RCX] = c;
    registers[REG_RDX] = d;
    registers[REG_RIP] += 2; /* CPUID is 0F A2 */
    __atomic_add_fetch(&answered, 1, __ATOMIC_RELAXED);
    (void)signal_number;
    (void)info;
}

/* How many CPUID instructions were answered so far (for the benchmark's report). */
long hidden_cpu_features_answered(void) { return answered; }

/* Which features CPUID now reports to this process, space-separated into `out`: it executes
 * CPUID itself, so the answer goes through the same handler as every library's. */
void hidden_cpu_features_visible(char *out, size_t size) {
    unsigned leaf1[4], leaf7[4], leaf7_1[4]; /* EAX EBX ECX EDX */
    __cpuid_count(1, 0, leaf1[0], leaf1[1], leaf1[2], leaf1[3]);
    __cpuid_count(7, 0, leaf7[0], leaf7[1], leaf7[2], leaf7[3]);
    __cpuid_count(7, 1, leaf7_1[0], leaf7_1[1], leaf7_1[2], leaf7_1[3]);
    struct { const char *name; int present; } flags[] = {
        {"sse4_2", !!(leaf1[2] & BIT(20))},      {"avx", !!(leaf1[2] & BIT(28))},
        {"avx2", !!(leaf7[1] & BIT(5))},         {"fma", !!(leaf1[2] & BIT(12))},
        {"avx512f", !!(leaf7[1] & BIT(16))},     {"avx512bw", !!(leaf7[1] & BIT(30))},
        {"avx512_vnni", !!(leaf7[2] & BIT(11))}, {"avx_vnni", !!(leaf7_1[0] & BIT(4))},
        {"amx_int8", !!(leaf7[3] & BIT(25))},
    };
    out[0] = '\0';
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (!flags[i].present) continue;
        if (out[0]) strncat(out, " ", size - strlen(out) - 1);
        strncat(out, flags[i].name, size - strlen(out) - 1);
    }
}

__attribute__((constructor)) static void start(void) {
    const char *groups = getenv("HIDE_CPU_FEATURES");
    if (!groups || !*groups) return;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", groups);
    for (char *saved, *group = strtok_r(copy, ",", &saved); group; group = strtok_r(NULL, ",", &saved)) {
        if (!strcmp(group, "avx512")) hide_avx512 = 1;
        else if (!strcmp(group, "avx_vnni")) hide_avx_vnni = 1;
        else if (!strcmp(group, "amx")) hide_amx = 1;
        else {
            fprintf(stderr, "hide_cpu_features: unknown group %s in HIDE_CPU_FEATURES=%s "
                            "(expected avx512, avx_vnni, amx)\n", group, groups);
            exit(2);
        }
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        perror("hide_cpu_features: arch_prctl(ARCH_SET_CPUID) (no cpuid_fault on this CPU?)");
        exit(2);
    }
}
