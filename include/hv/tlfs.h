/* SPDX-License-Identifier: MIT */
/* Hyper-V TLFS constants shared by hvrun and its guests (see shared tlfs.md for sources). */
#ifndef HV_TLFS_H
#define HV_TLFS_H

/* CPUID leaves and signatures. */
#define HV_CPUID_VENDOR_AND_MAX     0x40000000u
#define HV_CPUID_INTERFACE          0x40000001u
#define HV_CPUID_VERSION            0x40000002u
#define HV_CPUID_FEATURES           0x40000003u
#define HV_CPUID_ENLIGHTENMENT      0x40000004u
#define HV_CPUID_LIMITS             0x40000005u
#define HV_CPUID_HW_FEATURES        0x40000006u
#define HV_CPUID_MAX_LEAF           0x40000006u
#define HV_CPUID_SIGNATURE_EBX      0x7263694Du /* "Micr" */
#define HV_CPUID_SIGNATURE_ECX      0x666F736Fu /* "osof" */
#define HV_CPUID_SIGNATURE_EDX      0x76482074u /* "t Hv" */
#define HV_CPUID_INTERFACE_HV1      0x31237648u /* "Hv#1" */

/* 0x40000003.EAX: partition privileges 31:0. */
#define HV_PRIV_ACCESS_VP_RUNTIME           (1u << 0)
#define HV_PRIV_ACCESS_PARTITION_REF_COUNT  (1u << 1)
#define HV_PRIV_ACCESS_SYNIC_REGS           (1u << 2)
#define HV_PRIV_ACCESS_SYNTHETIC_TIMERS     (1u << 3)
#define HV_PRIV_ACCESS_INTR_CTRL_REGS       (1u << 4)
#define HV_PRIV_ACCESS_HYPERCALL_MSRS       (1u << 5)
#define HV_PRIV_ACCESS_VP_INDEX             (1u << 6)
#define HV_PRIV_ACCESS_RESET                (1u << 7)
#define HV_PRIV_ACCESS_STATS                (1u << 8)
#define HV_PRIV_ACCESS_PARTITION_REF_TSC    (1u << 9)
#define HV_PRIV_ACCESS_GUEST_IDLE           (1u << 10)
#define HV_PRIV_ACCESS_FREQUENCY_REGS       (1u << 11)
/* 0x40000003.EBX: partition privileges 63:32 (given as EBX bits). */
#define HV_PRIV_CREATE_PARTITIONS           (1u << 0)
#define HV_PRIV_ACCESS_PARTITION_ID         (1u << 1)
#define HV_PRIV_POST_MESSAGES               (1u << 4)
#define HV_PRIV_SIGNAL_EVENTS               (1u << 5)
#define HV_PRIV_ACCESS_VSM                  (1u << 16)
#define HV_PRIV_ACCESS_VP_REGISTERS         (1u << 17)
#define HV_PRIV_START_VIRTUAL_PROCESSOR     (1u << 21)
/* 0x40000003.EDX feature flags. */
#define HV_FEATURE_XMM_HYPERCALL_INPUT      (1u << 4)
#define HV_FEATURE_GUEST_CRASH_MSRS         (1u << 10)
#define HV_FEATURE_FREQUENCY_MSRS           (1u << 8)
#define HV_FEATURE_XMM_HYPERCALL_OUTPUT     (1u << 15)
#define HV_FEATURE_HYPERCALL_MSR_LOCK       (1u << 18)
/* 0x40000004.EAX recommendations. */
#define HV_RECOMMEND_APIC_MSRS              (1u << 3)   /* use the EOI/ICR/TPR MSRs */
#define HV_RECOMMEND_RELAXED_TIMING         (1u << 5)

/* Synthetic MSRs. */
#define HV_X64_MSR_GUEST_OS_ID          0x40000000u
#define HV_X64_MSR_HYPERCALL            0x40000001u
#define HV_X64_MSR_VP_INDEX             0x40000002u
#define HV_X64_MSR_RESET                0x40000003u
#define HV_X64_MSR_VP_RUNTIME           0x40000010u
#define HV_X64_MSR_TIME_REF_COUNT       0x40000020u
#define HV_X64_MSR_REFERENCE_TSC        0x40000021u
#define HV_X64_MSR_TSC_FREQUENCY        0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY       0x40000023u
#define HV_X64_MSR_EOI                  0x40000070u
#define HV_X64_MSR_ICR                  0x40000071u
#define HV_X64_MSR_TPR                  0x40000072u
#define HV_X64_MSR_VP_ASSIST_PAGE       0x40000073u
#define HV_X64_MSR_SCONTROL             0x40000080u
#define HV_X64_MSR_SVERSION             0x40000081u
#define HV_X64_MSR_SIEFP                0x40000082u
#define HV_X64_MSR_SIMP                 0x40000083u
#define HV_X64_MSR_EOM                  0x40000084u
#define HV_X64_MSR_SIRBP                0x40000085u
#define HV_X64_MSR_SINT0                0x40000090u
#define HV_X64_MSR_SINT15               0x4000009Fu
#define HV_X64_MSR_STIMER0_CONFIG       0x400000B0u
#define HV_X64_MSR_GUEST_IDLE           0x400000F0u
#define HV_X64_MSR_CRASH_P0             0x40000100u
#define HV_X64_MSR_CRASH_CTL            0x40000105u
#define HV_SYNTHETIC_MSR_FIRST          0x40000000u
#define HV_SYNTHETIC_MSR_COUNT          0x200u      /* hvrun traps 0x40000000..0x400001FF */

#define HV_HYPERCALL_MSR_ENABLE         (1ull << 0)
#define HV_HYPERCALL_MSR_LOCKED         (1ull << 1)
#define HV_SINT_MASKED                  (1ull << 16)
#define HV_SINT_AUTO_EOI                (1ull << 17)
#define HV_SINT_POLLING                 (1ull << 18)
#define HV_SYNIC_VERSION_1              1u

/* Hypercall input value (RCX) fields. */
#define HV_HYPERCALL_CODE_MASK          0xFFFFull
#define HV_HYPERCALL_FAST_BIT           (1ull << 16)
#define HV_HYPERCALL_VARHEAD_SHIFT      17
#define HV_HYPERCALL_VARHEAD_MASK       (0x3FFull << 17)
#define HV_HYPERCALL_NESTED_BIT         (1ull << 31)
#define HV_HYPERCALL_REP_COUNT_SHIFT    32
#define HV_HYPERCALL_REP_COUNT_MASK     (0xFFFull << 32)
#define HV_HYPERCALL_REP_START_SHIFT    48
#define HV_HYPERCALL_REP_START_MASK     (0xFFFull << 48)
#define HV_HYPERCALL_RSVD_MASK          ((0xFull << 27) | (0xFull << 44) | (0xFull << 60))
#define HV_HYPERCALL_RESULT_REPS_SHIFT  32

/* Register names (HV_REGISTER_NAME) for Get/SetVpRegisters (tlfs.md §1.4). */
#define HV_REG_HV_VERSION              0x00000100u
#define HV_REG_PRIV_FEATURES           0x00000200u
#define HV_REG_PENDING_EVENT0          0x00010004u
#define HV_REG_RAX                     0x00020000u   /* ..R15 = 0x0002000F, in RAX RCX RDX RBX RSP ... order */
#define HV_REG_RBX                     0x00020003u
#define HV_REG_RSP                     0x00020004u
#define HV_REG_RIP                     0x00020010u
#define HV_REG_RFLAGS                  0x00020011u
#define HV_REG_CR0                     0x00040000u
#define HV_REG_CR2                     0x00040001u
#define HV_REG_CR3                     0x00040002u
#define HV_REG_CR4                     0x00040003u
#define HV_REG_CR8                     0x00040004u
#define HV_REG_DR0                     0x00050000u   /* ..DR3 */
#define HV_REG_DR6                     0x00050004u
#define HV_REG_DR7                     0x00050005u
#define HV_REG_ES                      0x00060000u   /* ES CS SS DS FS GS LDTR TR */
#define HV_REG_CS                      0x00060001u
#define HV_REG_TR                      0x00060007u
#define HV_REG_IDTR                    0x00070000u
#define HV_REG_GDTR                    0x00070001u
#define HV_REG_TSC                     0x00080000u
#define HV_REG_EFER                    0x00080001u
#define HV_REG_KERNEL_GS               0x00080002u
#define HV_REG_APIC_BASE               0x00080003u
#define HV_REG_PAT                     0x00080004u
#define HV_REG_SYSENTER_CS             0x00080005u
#define HV_REG_SYSENTER_EIP            0x00080006u
#define HV_REG_SYSENTER_ESP            0x00080007u
#define HV_REG_STAR                    0x00080008u
#define HV_REG_LSTAR                   0x00080009u
#define HV_REG_CSTAR                   0x0008000Au
#define HV_REG_SFMASK                  0x0008000Bu
#define HV_REG_GUEST_OS_ID             0x00090002u
#define HV_REG_VP_INDEX                0x00090003u
#define HV_REG_TIME_REF                0x00090004u
#define HV_REG_VP_ASSIST               0x00090013u
#define HV_REG_REF_TSC                 0x00090017u
#define HV_REG_SINT0                   0x000A0000u   /* ..SINT15 */
#define HV_REG_SCONTROL                0x000A0010u
#define HV_REG_SVERSION                0x000A0011u
#define HV_REG_SIEFP                   0x000A0012u
#define HV_REG_SIMP                    0x000A0013u
#define HV_REG_EOM                     0x000A0014u
#define HV_REG_VSM_CODE_PAGE_OFFSETS   0x000D0002u
#define HV_REG_VSM_VP_STATUS           0x000D0003u
#define HV_REG_VSM_PARTITION_STATUS    0x000D0004u
#define HV_REG_VSM_CAPABILITIES        0x000D0006u
#define HV_REG_VSM_PARTITION_CONFIG    0x000D0007u

/* HV_INPUT_VTL (Get/SetVpRegisters, ...): bits 3:0 target VTL, bit 4 use it, bits 7:5 reserved. */
#define HV_INPUT_VTL_TARGET_MASK       0x0fu
#define HV_INPUT_VTL_USE_TARGET        0x10u
#define HV_INPUT_VTL_RESERVED          0xe0u

/* HvRegisterVsmPartitionConfig. */
#define HV_VSM_CONFIG_ENABLE_VTL_PROTECTION   (1ull << 0)
#define HV_VSM_CONFIG_DEFAULT_MASK_SHIFT      1
#define HV_VSM_CONFIG_DEFAULT_MASK            (0xfull << 1)
#define HV_VSM_CONFIG_ZERO_MEMORY_ON_RESET    (1ull << 5)
#define HV_VSM_CONFIG_DENY_LOWER_VTL_STARTUP  (1ull << 6)
#define HV_VSM_CONFIG_INTERCEPT_PAGE          (1ull << 12)

/* HvRegisterVsmCapabilities (Microsoft's code bit order, bit 0 = Dr6Shared): 27 intercept page. */
#define HV_VSM_CAP_INTERCEPT_PAGE             (1ull << 27)

/* HV_MAP_GPA_FLAGS (HvCallModifyVtlProtectionMask). */
#define HV_MAP_GPA_NONE       0x0u
#define HV_MAP_GPA_READABLE   0x1u
#define HV_MAP_GPA_WRITABLE   0x2u
#define HV_MAP_GPA_KX         0x4u   /* kernel-mode executable */
#define HV_MAP_GPA_UX         0x8u   /* user-mode executable */

/* HV_VP_VTL_CONTROL inside the VP assist page: byte offsets. */
#define HV_VP_ASSIST_ENTRY_REASON   0x08u
#define HV_VP_ASSIST_VINA_STATUS    0x0Cu
#define HV_VP_ASSIST_RETURN_RAX     0x10u
#define HV_VP_ASSIST_RETURN_RCX     0x18u
#define HV_VP_ASSIST_INTERCEPT_MSG  0x70u   /* the intercept message when VSM's intercept page is on */

/* Why a higher VTL was entered (VP assist page, HV_VP_ASSIST_ENTRY_REASON). */
#define HV_VTL_ENTRY_RESERVED       0u
#define HV_VTL_ENTRY_VTL_CALL       1u
#define HV_VTL_ENTRY_INTERRUPT      2u
#define HV_VTL_ENTRY_INTERCEPT      3u

/* Hypercall codes. */
#define HVCALL_NOTIFY_LONG_SPIN_WAIT        0x0008u
#define HVCALL_MODIFY_VTL_PROTECTION_MASK   0x000Cu
#define HVCALL_ENABLE_PARTITION_VTL         0x000Du
#define HVCALL_ENABLE_VP_VTL                0x000Fu
#define HVCALL_VTL_CALL                     0x0011u
#define HVCALL_VTL_RETURN                   0x0012u
#define HVCALL_GET_VP_REGISTERS             0x0050u
#define HVCALL_SET_VP_REGISTERS             0x0051u
#define HVCALL_POST_MESSAGE                 0x005Cu
#define HVCALL_SIGNAL_EVENT                 0x005Du
#define HVCALL_START_VIRTUAL_PROCESSOR      0x0099u
#define HVCALL_GET_VP_INDEX_FROM_APIC_ID    0x009Au

/* HV_STATUS values. */
#define HV_STATUS_SUCCESS                   0x0000u
#define HV_STATUS_INVALID_HYPERCALL_CODE    0x0002u
#define HV_STATUS_INVALID_HYPERCALL_INPUT   0x0003u
#define HV_STATUS_INVALID_ALIGNMENT         0x0004u
#define HV_STATUS_INVALID_PARAMETER         0x0005u
#define HV_STATUS_ACCESS_DENIED             0x0006u
#define HV_STATUS_INVALID_PARTITION_STATE   0x0007u
#define HV_STATUS_OPERATION_DENIED          0x0008u
#define HV_STATUS_UNKNOWN_PROPERTY          0x0009u
#define HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE 0x000Au
#define HV_STATUS_INSUFFICIENT_MEMORY       0x000Bu
#define HV_STATUS_INVALID_PARTITION_ID      0x000Du
#define HV_STATUS_INVALID_VP_INDEX          0x000Eu
#define HV_STATUS_NOT_FOUND                 0x0010u
#define HV_STATUS_INVALID_PORT_ID           0x0011u
#define HV_STATUS_INVALID_CONNECTION_ID     0x0012u
#define HV_STATUS_INSUFFICIENT_BUFFERS      0x0013u
#define HV_STATUS_INVALID_VP_STATE          0x0015u
#define HV_STATUS_INVALID_SYNIC_STATE       0x0018u
#define HV_STATUS_OBJECT_IN_USE             0x0019u
#define HV_STATUS_NO_RESOURCES              0x001Du
#define HV_STATUS_FEATURE_UNAVAILABLE       0x001Eu
#define HV_STATUS_INVALID_REGISTER_VALUE    0x0050u
#define HV_STATUS_INVALID_VTL_STATE         0x0051u
#define HV_STATUS_OPERATION_FAILED          0x0071u
#define HV_STATUS_TIME_OUT                  0x0078u
#define HV_STATUS_VTL_ALREADY_ENABLED       0x0086u
#define HV_STATUS_UNKNOWN_REGISTER_NAME     0x0087u

#define HV_PARTITION_ID_SELF                0xFFFFFFFFFFFFFFFFull
#define HV_VP_INDEX_SELF                    0xFFFFFFFEu
#define HV_ANY_VP                           0xFFFFFFFFu

/* Message types (HV_MESSAGE_TYPE). */
#define HVMSG_NONE                          0x00000000u
#define HVMSG_UNMAPPED_GPA                  0x80000000u
#define HVMSG_GPA_INTERCEPT                 0x80000001u
#define HVMSG_TIMER_EXPIRED                 0x80000010u
#define HVMSG_INVALID_VP_REGISTER_VALUE     0x80000020u
#define HVMSG_UNRECOVERABLE_EXCEPTION       0x80000021u
#define HVMSG_UNSUPPORTED_FEATURE           0x80000022u
#define HVMSG_HYPERCALL_INTERCEPT           0x80000050u
#define HVMSG_X64_IO_PORT_INTERCEPT         0x80010000u
#define HVMSG_X64_MSR_INTERCEPT             0x80010001u
#define HVMSG_X64_CPUID_INTERCEPT           0x80010002u
#define HVMSG_X64_EXCEPTION_INTERCEPT       0x80010003u
#define HVMSG_X64_APIC_EOI                  0x80010004u
#define HVMSG_X64_REGISTER_INTERCEPT        0x80010006u
#define HVMSG_X64_HALT                      0x80010007u
#define HVMSG_X64_INTERRUPTION_DELIVERABLE  0x80010008u
#define HVMSG_HYPERVISOR_MASK               0x80000000u

/* Intercept access types (HV_INTERCEPT_ACCESS_TYPE). */
#define HV_INTERCEPT_ACCESS_READ            0u
#define HV_INTERCEPT_ACCESS_WRITE           1u
#define HV_INTERCEPT_ACCESS_EXECUTE         2u

/* HV_X64_VP_EXECUTION_STATE bits. */
#define HV_EXEC_STATE_CPL_MASK              0x0003u
#define HV_EXEC_STATE_CR0_PE                (1u << 2)
#define HV_EXEC_STATE_CR0_AM                (1u << 3)
#define HV_EXEC_STATE_EFER_LMA              (1u << 4)
#define HV_EXEC_STATE_DEBUG_ACTIVE          (1u << 5)
#define HV_EXEC_STATE_INTERRUPTION_PENDING  (1u << 6)
#define HV_EXEC_STATE_VTL_SHIFT             7
#define HV_EXEC_STATE_VTL_MASK              (0xFu << 7)
#define HV_EXEC_STATE_INTERRUPT_SHADOW      (1u << 12)

#endif /* HV_TLFS_H */
