/* SPDX-License-Identifier: MIT */
/*
 * synic: SynIC messages and events between partitions (hvrun --config tests/guest/synic.ini).
 *
 * One image, four roles picked by the first word of the boot command line:
 *   ping      the initiator: self tests, then N ping-pong round trips with the peer (timed),
 *             a one-way stream with backpressure, and the benchmark line
 *   pong      the responder: self tests, then echoes every ping; waits with `sti; hlt`
 *   survivor  an initiator whose peer dies: every wait is bounded, and posting to the dead
 *             partition must end in INSUFFICIENT_BUFFERS, never in a hang
 *   crasher   a responder that triple-faults after `crash-after=K` replies
 * Options: count=N (ping-pong round trips, default 50), stream=S (default 200), crash-after=K.
 *
 * The connections (see tests/guest/synic.ini.in; a [connection ID] is usable only `from` its
 * partition, and lands in `to`'s SINT):
 *   1   ping -> pong  SINT 2 (pong EOIs through HV_X64_MSR_EOI)
 *   2   pong -> ping  SINT 5 (ping's SINT 5 has AutoEOI: no EOI write)
 *   10  ping -> ping  SINT 3 (masked: backpressure)      11  ping -> ping SINT 4, flag base 5
 *   20  pong -> pong  SINT 3 (masked: backpressure)      21  pong -> pong SINT 4, flag base 100
 *
 * Receiving follows the TLFS: copy the slot, set its type to 0 (HvMessageTypeNone), then, after
 * a full fence, write EOM if MessagePending was set; then EOI (unless AutoEOI).
 *
 * Self tests: backpressure (masked SINT: slot + 4-deep queue, then INSUFFICIENT_BUFFERS, then
 * EOM redelivers in order), event flags in the SIEF page (flag base + FlagNumber, SINT s at
 * byte s*256; an already-set flag still succeeds without a new interrupt; slow and fast calls),
 * parameter errors (unknown connection, hypervisor message type, payload 241, reserved fields,
 * flag number out of range), and (ping) INVALID_SYNIC_STATE with the SIM/SIEF page disabled.
 */
#include "hvguest.h"

/* Message types of the protocol (MSB clear: guest messages). */
#define TYPE_HELLO   0x104u
#define TYPE_PING    0x100u
#define TYPE_PONG    0x101u
#define TYPE_STREAM  0x102u
#define TYPE_ACK     0x103u
#define TYPE_QUIT    0x1ffu
#define TYPE_SELF    0x200u

#define CONN_PING_TO_PONG 1u
#define CONN_PONG_TO_PING 2u
#define CONN_UNKNOWN      999u

#define SINT_SELF_MSG 3u
#define SINT_SELF_EVT 4u
#define VEC_PONG_IN   0x50u   /* pong's SINT 2 */
#define VEC_PING_IN   0x51u   /* ping's SINT 5 (AutoEOI) */
#define VEC_SELF_MSG  0x58u   /* masked */
#define VEC_SELF_EVT  0x60u

#define RING          64u
#define MAX_COUNT     256u
#define QUEUE_DEPTH   4u      /* hvrun's per-SINT queue behind the slot */

uint64_t hvg_hcpage;

static uint8_t hcpage[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t hc_in[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t simp_page[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t siefp_page[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t spare_page[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));

#define SLOT(s) ((volatile struct hv_message *)(simp_page + 256u * (s)))

struct role {
	const char *name;
	bool initiator;
	bool self_tests;
	uint32_t conn_out;          /* to the peer */
	unsigned sint_in;           /* where the peer's messages arrive */
	uint8_t vec_in;
	bool auto_eoi_in;
	uint32_t conn_self_msg, conn_self_evt;
	uint16_t flag_base;         /* of conn_self_evt, as synic.ini sets it */
	uint8_t salt_out, salt_in;  /* payload patterns of the two directions */
};

static const struct role roles[] = {
	{ "ping", true, true, CONN_PING_TO_PONG, 5, VEC_PING_IN, true, 10, 11, 5, 0x11, 0x22 },
	{ "pong", false, true, CONN_PONG_TO_PING, 2, VEC_PONG_IN, false, 20, 21, 100, 0x22, 0x11 },
	{ "survivor", true, false, CONN_PING_TO_PONG, 5, VEC_PING_IN, true, 0, 0, 0, 0x11, 0x22 },
	{ "crasher", false, false, CONN_PONG_TO_PING, 2, VEC_PONG_IN, false, 0, 0, 0, 0x22, 0x11 },
};
static const struct role *me;

/* Messages taken out of the peer's slot by drain_slot(), in arrival order. */
static struct hv_message ring[RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint32_t irq_in, irq_self_msg, irq_self_evt, spurious_in, eoms_in;
/*
 * Stall diagnosis: when the stream stops (INSUFFICIENT_BUFFERS for seconds), the initiator
 * signals event flag 0 over its message connection, which raises the responder's SINT. The
 * responder records what its slot held at that moment: a message there means hvrun delivered
 * it without raising the SINT.
 */
static volatile uint32_t kicks;
static volatile uint32_t kick_slot_type, kick_slot_flags, kick_irr_hint;

/* ---- Messages ------------------------------------------------------------------------------ */

static unsigned size_for(uint32_t seq)
{
	return seq == 0 ? HV_MESSAGE_PAYLOAD_SIZE : 4 + (seq * 37u) % (HV_MESSAGE_PAYLOAD_SIZE - 3);
}

static uint8_t pattern(uint32_t seq, unsigned j, uint8_t salt)
{
	return (uint8_t)(seq * 131u + j * 7u + salt);
}

/* Returns the first wrong byte's index + 1, or 0 if the payload is the one for `seq`. */
static unsigned payload_bad(const struct hv_message *m, uint32_t seq, uint8_t salt)
{
	uint32_t got;

	memcpy(&got, m->payload.bytes, 4);
	if (got != seq)
		return 1;
	for (unsigned j = 4; j < size_for(seq); j++)
		if (m->payload.bytes[j] != pattern(seq, j, salt))
			return j + 1;
	return 0;
}

/* HvCallPostMessage; the payload is the pattern of `seq` unless `raw` gives the fields. */
static uint16_t post_raw(uint32_t conn, uint32_t reserved, uint32_t type, uint32_t size, uint32_t seq,
			 uint8_t salt)
{
	volatile uint32_t *in = (volatile uint32_t *)hc_in;
	uint8_t *payload = hc_in + 16;

	in[0] = conn;
	in[1] = reserved;
	in[2] = type;
	in[3] = size;
	memcpy(payload, &seq, 4);
	for (unsigned j = 4; j < HV_MESSAGE_PAYLOAD_SIZE; j++)
		payload[j] = pattern(seq, j, salt);
	return hv_status(hv_call(HVCALL_POST_MESSAGE, (uintptr_t)hc_in, 0));
}

static uint16_t post(uint32_t conn, uint32_t type, uint32_t seq, uint8_t salt)
{
	return post_raw(conn, 0, type, size_for(seq), seq, salt);
}

/* Post, retrying while the receiver is not ready (no SIM page yet) or full; bounded. */
static uint16_t post_retry(uint32_t conn, uint32_t type, uint32_t seq, uint8_t salt, uint64_t ms,
			   unsigned *busy)
{
	uint64_t deadline = hvg_deadline_ms(ms);
	uint16_t st;

	for (;;) {
		st = post(conn, type, seq, salt);
		if ((st != HV_STATUS_INSUFFICIENT_BUFFERS && st != HV_STATUS_INVALID_SYNIC_STATE) ||
		    hvg_expired(deadline))
			return st;
		if (busy)
			(*busy)++;
		cpu_relax();
	}
}

static uint16_t signal_event(uint32_t conn, uint16_t flag, uint16_t reserved)
{
	volatile uint32_t *in = (volatile uint32_t *)hc_in;

	in[0] = conn;
	in[1] = flag | (uint32_t)reserved << 16;
	return hv_status(hv_call(HVCALL_SIGNAL_EVENT, (uintptr_t)hc_in, 0));
}

static uint16_t signal_event_fast(uint32_t conn, uint16_t flag)
{
	return hv_status(hv_call_fast(HVCALL_SIGNAL_EVENT, conn | (uint64_t)flag << 32, 0));
}

/* ---- Receiving ----------------------------------------------------------------------------- */

/*
 * Move messages from the peer's slot into the ring (IF=0: from the handler, or main with cli).
 * TLFS order: copy, type = None, fence, then EOM if MessagePending was set. EOM makes hvrun put
 * the next queued message into the slot at once, so loop while there is room.
 */
static void drain_slot(void)
{
	volatile struct hv_message *slot = SLOT(me->sint_in);

	while (slot->header.message_type != HVMSG_NONE && rx_head - rx_tail < RING) {
		memcpy(&ring[rx_head % RING], (const void *)slot, sizeof(struct hv_message));
		rx_head = rx_head + 1;
		slot->header.message_type = HVMSG_NONE;
		mfence();
		if (slot->header.message_flags & HV_MESSAGE_FLAG_PENDING) {
			wrmsr(HV_X64_MSR_EOM, 0);
			eoms_in = eoms_in + 1;
		}
	}
}

static bool in_handler(struct exc_frame *f)
{
	uint32_t before = rx_head;

	(void)f;
	irq_in = irq_in + 1;
	if (siefp_page[me->sint_in * 256u] & 1) {        /* the initiator's stall kick (flag 0) */
		__atomic_fetch_and(&siefp_page[me->sint_in * 256u], (uint8_t)~1u, __ATOMIC_SEQ_CST);
		if (!kicks) {
			kick_slot_type = SLOT(me->sint_in)->header.message_type;
			kick_slot_flags = SLOT(me->sint_in)->header.message_flags;
			kick_irr_hint = rx_head;
		}
		kicks = kicks + 1;
	}
	drain_slot();
	if (rx_head == before)
		spurious_in = spurious_in + 1;
	if (!me->auto_eoi_in)
		wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

static bool self_msg_handler(struct exc_frame *f)
{
	(void)f;
	irq_self_msg = irq_self_msg + 1;
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

static bool self_evt_handler(struct exc_frame *f)
{
	(void)f;
	irq_self_evt = irq_self_evt + 1;
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

static bool rx_ready(void)
{
	return rx_head != rx_tail;
}

/* Take the oldest received message; then let the slot refill the ring if it had to wait. */
static void rx_take(struct hv_message *m)
{
	bool was_on = irqs_enabled();

	*m = ring[rx_tail % RING];
	cli();
	rx_tail = rx_tail + 1;
	drain_slot();
	if (was_on)
		sti();
}

/* Bounded: spin with IF=1 (interrupts arrive through hvrun's kick). */
static bool rx_wait_spin(uint64_t ms)
{
	uint64_t deadline = hvg_deadline_ms(ms);

	sti();
	while (!rx_ready()) {
		if (hvg_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

/* Unbounded: `sti; hlt` until the SINT interrupt brought something. */
static void rx_wait_hlt(void)
{
	cli();
	while (!rx_ready()) {
		sti_hlt();
		cli();
	}
	sti();
}

/* ---- Set-up -------------------------------------------------------------------------------- */

static void synic_setup(void)
{
	idt_install();
	idt_set_handler(me->vec_in, in_handler);
	idt_set_handler(VEC_SELF_MSG, self_msg_handler);
	idt_set_handler(VEC_SELF_EVT, self_evt_handler);
	/*
	 * SIM page last: a message can arrive the moment it exists, and by then SCONTROL and the
	 * SINT must be on, or the interrupt for it is never raised.
	 */
	wrmsr(HV_X64_MSR_SIEFP, (uintptr_t)siefp_page | 1);
	wrmsr(HV_X64_MSR_SCONTROL, 1);
	wrmsr(HV_X64_MSR_SINT0 + me->sint_in, me->vec_in | (me->auto_eoi_in ? HV_SINT_AUTO_EOI : 0));
	wrmsr(HV_X64_MSR_SINT0 + SINT_SELF_MSG, VEC_SELF_MSG | HV_SINT_MASKED);
	wrmsr(HV_X64_MSR_SINT0 + SINT_SELF_EVT, VEC_SELF_EVT);
	wrmsr(HV_X64_MSR_SIMP, (uintptr_t)simp_page | 1);
}

/* ---- Self tests ---------------------------------------------------------------------------- */

static void consume_self(volatile struct hv_message *slot)
{
	slot->header.message_type = HVMSG_NONE;
	mfence();
	if (slot->header.message_flags & HV_MESSAGE_FLAG_PENDING)
		wrmsr(HV_X64_MSR_EOM, 0);
}

static uint32_t slot_seq(volatile struct hv_message *slot)
{
	return *(volatile uint32_t *)slot->payload.bytes;
}

static void test_backpressure(void)
{
	volatile struct hv_message *slot = SLOT(SINT_SELF_MSG);
	uint32_t irqs = irq_self_msg;
	uint16_t st[QUEUE_DEPTH + 1];
	bool ok = true;
	unsigned bad;

	report_prefix_push("backpressure");
	report(slot->header.message_type == HVMSG_NONE, "SINT %u slot starts empty", SINT_SELF_MSG);
	for (uint32_t i = 0; i <= QUEUE_DEPTH; i++)
		st[i] = post(me->conn_self_msg, TYPE_SELF, i, 0x33);
	for (unsigned i = 0; i <= QUEUE_DEPTH; i++)
		ok &= st[i] == HV_STATUS_SUCCESS;
	report(ok, "slot + %u queued posts succeed (%#x %#x %#x %#x %#x)", QUEUE_DEPTH, st[0], st[1], st[2],
	       st[3], st[4]);
	report(slot->header.message_type == TYPE_SELF && slot_seq(slot) == 0 &&
	       slot->header.payload_size == size_for(0) && slot->header.sender == me->conn_self_msg,
	       "the slot holds message 0 (type %#x, seq %u, size %u, sender/port %lu)",
	       slot->header.message_type, slot_seq(slot), slot->header.payload_size,
	       (unsigned long)slot->header.sender);
	bad = payload_bad((const struct hv_message *)slot, 0, 0x33);
	report(!bad, "message 0 payload intact (first bad byte %u)", bad);
	report(slot->header.message_flags & HV_MESSAGE_FLAG_PENDING, "MessagePending set (flags %#x)",
	       slot->header.message_flags);
	st[0] = post(me->conn_self_msg, TYPE_SELF, QUEUE_DEPTH + 1, 0x33);
	report(st[0] == HV_STATUS_INSUFFICIENT_BUFFERS, "slot and queue full: INSUFFICIENT_BUFFERS (%#x)",
	       st[0]);
	report(slot_seq(slot) == 0, "the refused post left the slot alone (seq %u)", slot_seq(slot));

	consume_self(slot);
	report(slot->header.message_type == TYPE_SELF && slot_seq(slot) == 1 &&
	       (slot->header.message_flags & HV_MESSAGE_FLAG_PENDING),
	       "EOM redelivers message 1 at once, MessagePending still set (type %#x seq %u flags %#x)",
	       slot->header.message_type, slot_seq(slot), slot->header.message_flags);
	st[0] = post(me->conn_self_msg, TYPE_SELF, QUEUE_DEPTH + 1, 0x33);
	report(st[0] == HV_STATUS_SUCCESS, "room again: the next post succeeds (%#x)", st[0]);

	ok = true;
	for (uint32_t want = 1; want <= QUEUE_DEPTH + 1; want++) {
		bool pending = slot->header.message_flags & HV_MESSAGE_FLAG_PENDING;
		bool last = want == QUEUE_DEPTH + 1;
		if (slot->header.message_type != TYPE_SELF || slot_seq(slot) != want || pending == last ||
		    payload_bad((const struct hv_message *)slot, want, 0x33)) {
			report_info("drain: wanted seq %u, slot type %#x seq %u flags %#x", want,
				    slot->header.message_type, slot_seq(slot), slot->header.message_flags);
			ok = false;
			break;
		}
		consume_self(slot);
	}
	report(ok, "messages 1..%u follow in order, MessagePending on all but the last", QUEUE_DEPTH + 1);
	report(slot->header.message_type == HVMSG_NONE, "slot empty after the drain");
	wrmsr(HV_X64_MSR_EOM, 0);
	report(slot->header.message_type == HVMSG_NONE, "an EOM with nothing queued changes nothing");
	report(irq_self_msg == irqs, "the masked SINT raised no interrupt (%u)", irq_self_msg - irqs);
	report_prefix_pop();
}

static bool wait_count(volatile uint32_t *v, uint32_t want, uint64_t ms)
{
	uint64_t deadline = hvg_deadline_ms(ms);

	while (*v < want) {
		if (hvg_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

static bool flag_set(unsigned sint, unsigned flag)
{
	return (siefp_page[sint * 256u + flag / 8] >> (flag % 8)) & 1;
}

static void flag_clear(unsigned sint, unsigned flag)
{
	__atomic_fetch_and(&siefp_page[sint * 256u + flag / 8], (uint8_t)~(1u << (flag % 8)),
			   __ATOMIC_SEQ_CST);
}

static unsigned flags_set_in(unsigned sint)
{
	unsigned n = 0;

	for (unsigned b = 0; b < 256; b++)
		for (uint8_t v = siefp_page[sint * 256u + b]; v; v &= (uint8_t)(v - 1))
			n++;
	return n;
}

static void test_events(void)
{
	const unsigned s = SINT_SELF_EVT;
	const unsigned base = me->flag_base;
	uint32_t irqs;
	uint16_t st;
	bool ok;

	report_prefix_push("events");
	sti();
	report(flags_set_in(s) == 0, "SIEF flags of SINT %u start clear", s);
	irqs = irq_self_evt;
	st = signal_event(me->conn_self_evt, 3, 0);
	report(st == HV_STATUS_SUCCESS, "HvCallSignalEvent flag 3 (%#x)", st);
	report(flag_set(s, base + 3) && flags_set_in(s) == 1,
	       "sets flag base %u + 3 = %u at SIEF byte %u (only it: %u set)", base, base + 3,
	       s * 256 + (base + 3) / 8, flags_set_in(s));
	ok = true;
	for (unsigned o = 0; o < 16; o++)
		ok &= o == s || flags_set_in(o) == 0;
	report(ok, "no other SINT's flags touched");
	report(wait_count(&irq_self_evt, irqs + 1, 2000), "SINT %u raised its interrupt (%u)", s,
	       irq_self_evt - irqs);

	irqs = irq_self_evt;
	st = signal_event(me->conn_self_evt, 3, 0);
	(void)rdmsr(HV_X64_MSR_VP_INDEX);         /* an exit: a chance for a wrong interrupt */
	report(st == HV_STATUS_SUCCESS && flag_set(s, base + 3),
	       "signalling the already-set flag succeeds (%#x)", st);
	report(irq_self_evt == irqs, "and raises no new interrupt (%u)", irq_self_evt - irqs);

	flag_clear(s, base + 3);
	irqs = irq_self_evt;
	st = signal_event_fast(me->conn_self_evt, 40);
	report(st == HV_STATUS_SUCCESS && flag_set(s, base + 40) && flags_set_in(s) == 1,
	       "fast HvCallSignalEvent flag 40 sets flag %u (%#x)", base + 40, st);
	report(wait_count(&irq_self_evt, irqs + 1, 2000), "and interrupts again once cleared (%u)",
	       irq_self_evt - irqs);
	flag_clear(s, base + 40);

	st = signal_event(me->conn_self_evt, (uint16_t)(2048 - base), 0);
	report(st == HV_STATUS_INVALID_PARAMETER, "flag base + FlagNumber = 2048: INVALID_PARAMETER (%#x)",
	       st);
	st = signal_event(me->conn_self_evt, 2047 - base, 0);
	report(st == HV_STATUS_SUCCESS && flag_set(s, 2047), "flag 2047 (the last) works (%#x)", st);
	flag_clear(s, 2047);
	st = signal_event(me->conn_self_evt, 1, 1);
	report(st == HV_STATUS_INVALID_PARAMETER, "reserved field set: INVALID_PARAMETER (%#x)", st);
	st = signal_event(CONN_UNKNOWN, 1, 0);
	report(st == HV_STATUS_INVALID_CONNECTION_ID, "unknown connection: INVALID_CONNECTION_ID (%#x)", st);
	report(flags_set_in(s) == 0, "all flags cleared again");
	report_prefix_pop();
}

static void test_post_errors(void)
{
	uint16_t st;

	report_prefix_push("post-errors");
	st = post(CONN_UNKNOWN, TYPE_SELF, 1, 0);
	report(st == HV_STATUS_INVALID_CONNECTION_ID, "unknown ConnectionId: INVALID_CONNECTION_ID (%#x)", st);
	st = post(me->initiator ? CONN_PONG_TO_PING : CONN_PING_TO_PONG, TYPE_SELF, 1, 0);
	report(st == HV_STATUS_INVALID_CONNECTION_ID,
	       "the peer's connection cannot be used from here: INVALID_CONNECTION_ID (%#x)", st);
	st = post(me->conn_self_msg, 0x80000001u, 1, 0);
	report(st == HV_STATUS_INVALID_PARAMETER, "MessageType with the MSB set: INVALID_PARAMETER (%#x)", st);
	st = post(me->conn_self_msg, HVMSG_NONE, 1, 0);
	report(st == HV_STATUS_INVALID_PARAMETER, "MessageType 0 (None): INVALID_PARAMETER (%#x)", st);
	st = post_raw(me->conn_self_msg, 0, TYPE_SELF, HV_MESSAGE_PAYLOAD_SIZE + 1, 1, 0);
	report(st == HV_STATUS_INVALID_PARAMETER, "PayloadSize 241: INVALID_PARAMETER (%#x)", st);
	st = post_raw(me->conn_self_msg, 1, TYPE_SELF, 8, 1, 0);
	report(st == HV_STATUS_INVALID_PARAMETER, "reserved field set: INVALID_PARAMETER (%#x)", st);
	report(SLOT(SINT_SELF_MSG)->header.message_type == HVMSG_NONE, "no refused post reached the slot");
	st = post_raw(me->conn_self_msg, 0, TYPE_SELF, HV_MESSAGE_PAYLOAD_SIZE, 7, 0);
	report(st == HV_STATUS_SUCCESS && SLOT(SINT_SELF_MSG)->header.payload_size == 240,
	       "PayloadSize 240 is fine (%#x)", st);
	consume_self(SLOT(SINT_SELF_MSG));
	report_prefix_pop();
}

/* The SIM/SIEF page off: INVALID_SYNIC_STATE. Only the initiator: the peer never posts to it now. */
static void test_synic_state(void)
{
	uint16_t st;

	report_prefix_push("synic-state");
	wrmsr(HV_X64_MSR_SIMP, (uintptr_t)simp_page);
	st = post(me->conn_self_msg, TYPE_SELF, 1, 0);
	report(st == HV_STATUS_INVALID_SYNIC_STATE, "posting with the SIM page disabled: "
	       "INVALID_SYNIC_STATE (%#x)", st);
	wrmsr(HV_X64_MSR_SIMP, (uintptr_t)simp_page | 1);
	st = post(me->conn_self_msg, TYPE_SELF, 1, 0);
	report(st == HV_STATUS_SUCCESS && SLOT(SINT_SELF_MSG)->header.message_type == TYPE_SELF,
	       "re-enabled: the post lands (%#x)", st);
	consume_self(SLOT(SINT_SELF_MSG));

	wrmsr(HV_X64_MSR_SIEFP, (uintptr_t)siefp_page);
	st = signal_event(me->conn_self_evt, 1, 0);
	report(st == HV_STATUS_INVALID_SYNIC_STATE, "signalling with the SIEF page disabled: "
	       "INVALID_SYNIC_STATE (%#x)", st);
	wrmsr(HV_X64_MSR_SIEFP, (uintptr_t)siefp_page | 1);
	report(flags_set_in(SINT_SELF_EVT) == 0, "the refused signal set no flag");

	/* The SIM page moved: messages land at the new GPA. */
	wrmsr(HV_X64_MSR_SIMP, (uintptr_t)spare_page | 1);
	st = post(me->conn_self_msg, TYPE_SELF, 9, 0);
	{
		volatile struct hv_message *moved = (volatile struct hv_message *)(spare_page + 256u * SINT_SELF_MSG);
		report(st == HV_STATUS_SUCCESS && moved->header.message_type == TYPE_SELF &&
		       *(volatile uint32_t *)moved->payload.bytes == 9,
		       "after moving the SIM page the message lands at the new GPA (%#x)", st);
		consume_self(moved);
	}
	wrmsr(HV_X64_MSR_SIMP, (uintptr_t)simp_page | 1);
	report_prefix_pop();
}

static uint64_t measure_signal_tsc(void)
{
	uint64_t t[16];

	/* An already-set flag: the hypercall's own cost, no interrupt. */
	(void)signal_event_fast(me->conn_self_evt, 7);
	for (unsigned i = 0; i < 16; i++) {
		uint64_t t0 = rdtsc();
		(void)signal_event_fast(me->conn_self_evt, 7);
		t[i] = rdtsc() - t0;
	}
	flag_clear(SINT_SELF_EVT, me->flag_base + 7u);
	return median_u64(t, 16);
}

/* ---- Between partitions -------------------------------------------------------------------- */

static unsigned opt(const char *key, unsigned def, unsigned max)
{
	char v[16];
	unsigned n;

	if (!hvg_cmdline_value(key, v, sizeof(v)))
		return def;
	n = hvg_parse_uint(v);
	return n > max ? max : n;
}

static bool check_msg(const struct hv_message *m, uint32_t type, uint32_t seq, uint8_t salt, uint32_t conn)
{
	return m->header.message_type == type && m->header.payload_size == size_for(seq) &&
	       m->header.sender == conn && !payload_bad(m, seq, salt);
}

static void describe(const char *what, const struct hv_message *m)
{
	uint32_t seq;

	memcpy(&seq, m->payload.bytes, 4);
	report_info("%s: type %#x size %u flags %#x sender %lu seq %u", what, m->header.message_type,
		    m->header.payload_size, m->header.message_flags, (unsigned long)m->header.sender, seq);
}

/* Initiator: hello, ping-pong (timed), stream; or, as survivor, a peer that dies. */
static void run_initiator(unsigned count, unsigned streamed)
{
	static uint64_t rt[MAX_COUNT];
	const uint32_t conn_in = CONN_PONG_TO_PING;
	struct hv_message m;
	unsigned done = 0, busy = 0, crash_after = opt("crash-after", 3, MAX_COUNT);
	uint64_t t_all, roundtrip = 0, pio, signal_tsc = 0;
	uint16_t st;
	bool ok;

	report_prefix_push("pingpong");
	st = post_retry(me->conn_out, TYPE_HELLO, 0, me->salt_out, 20000, NULL);
	report(st == HV_STATUS_SUCCESS, "hello posted once the peer's SIM page exists (%#x)", st);
	ok = st == HV_STATUS_SUCCESS && rx_wait_spin(20000);
	if (ok) {
		rx_take(&m);
		ok = check_msg(&m, TYPE_HELLO, 0, me->salt_in, conn_in);
		if (!ok)
			describe("hello answer", &m);
	}
	report(ok, "the peer answered hello");
	if (!ok) {
		report_prefix_pop();
		return;
	}

	t_all = rdtsc();
	for (uint32_t i = 0; i < count; i++) {
		uint64_t t0 = rdtsc();
		st = post_retry(me->conn_out, TYPE_PING, i, me->salt_out, 5000, &busy);
		if (st != HV_STATUS_SUCCESS) {
			report_info("ping %u: post status %#x", i, st);
			break;
		}
		if (!rx_wait_spin(me->initiator && !me->self_tests ? 3000 : 10000)) {
			report_info("ping %u: no answer within the deadline", i);
			break;
		}
		rt[i] = rdtsc() - t0;
		rx_take(&m);
		if (!check_msg(&m, TYPE_PONG, i, me->salt_in, conn_in)) {
			describe("wrong answer", &m);
			break;
		}
		done++;
	}
	t_all = rdtsc() - t_all;

	if (!me->self_tests) {
		/* survivor: the peer triple-faults after crash_after answers. */
		unsigned posts = 0;
		report(done == crash_after, "the peer answered %u pings, then stopped (bounded wait, %u)",
		       crash_after, done);
		/* Its SIM page is still there: slot + queue fill, then INSUFFICIENT_BUFFERS, no hang. */
		do {
			st = post(me->conn_out, TYPE_PING, 1000 + posts, me->salt_out);
			posts++;
		} while (st == HV_STATUS_SUCCESS && posts < 16);
		report(st == HV_STATUS_INSUFFICIENT_BUFFERS && posts <= QUEUE_DEPTH + 2,
		       "posting to the dead partition ends in INSUFFICIENT_BUFFERS after %u posts (%#x)", posts,
		       st);
		report(rx_head == rx_tail && !SLOT(me->sint_in)->header.message_type,
		       "nothing more arrived from the dead peer");
		report_prefix_pop();
		return;
	}

	report(done == count, "%u round trips: counts, payloads (%u..240 bytes) and order check (%u done)",
	       count, 4u, done);
	report(irq_in >= done + 1 && spurious_in == 0, "one AutoEOI interrupt per answer (%u interrupts, "
	       "%u spurious)", irq_in, spurious_in);
	if (done)
		roundtrip = median_u64(rt, done);
	report_prefix_pop();

	/* One-way stream: the peer's slot and queue fill up; INSUFFICIENT_BUFFERS is flow control. */
	report_prefix_push("stream");
	{
		uint64_t t0 = rdtsc(), t_stream;
		unsigned sent = 0, stalls = 0;
		uint32_t got = 0, errs = 0;
		busy = 0;
		for (uint32_t i = 0; i < streamed; i++) {
			st = post_retry(me->conn_out, TYPE_STREAM, i, me->salt_out, 5000, &busy);
			if (st == HV_STATUS_INSUFFICIENT_BUFFERS && stalls < 3) {
				/* Stalled: wake the responder with an event so it can tell what it sees. */
				report_info("stream %u: still INSUFFICIENT_BUFFERS after 5 s: kicking the peer "
					    "with an event (%#x)", i, signal_event(me->conn_out, 0, 0));
				stalls++;
				i--;
				continue;
			}
			if (st != HV_STATUS_SUCCESS) {
				report_info("stream %u: post status %#x after %u busy retries", i, st, busy);
				break;
			}
			sent++;
		}
		report(stalls == 0, "the stream never stalled (%u stalls)", stalls);
		ok = rx_wait_spin(10000);
		t_stream = rdtsc() - t0;
		if (ok) {
			rx_take(&m);
			memcpy(&got, m.payload.bytes + 4, 4);
			memcpy(&errs, m.payload.bytes + 8, 4);
			ok = m.header.message_type == TYPE_ACK;
			if (!ok)
				describe("stream ack", &m);
		}
		report(sent == streamed, "%u messages posted, %u INSUFFICIENT_BUFFERS retries on the way", sent,
		       busy);
		report(ok && got == streamed && errs == 0, "the peer got all %u in order, intact (%u, %u errors)",
		       streamed, got, errs);
		pio = hvg_pio_median(32);
		signal_tsc = measure_signal_tsc();
		printf("BENCH synic_roundtrip_tsc=%lu pio_tsc=%lu signal_event_tsc=%lu roundtrip_per_pio_x100=%lu "
		       "synic_roundtrip_ns=%lu pio_ns=%lu pingpong_msgs_per_sec=%lu stream_msgs_per_sec=%lu "
		       "stream_busy_retries=%u tsc_hz=%lu\n",
		       roundtrip, pio, signal_tsc, pio ? roundtrip * 100 / pio : 0, hvg_tsc_to_ns(roundtrip),
		       hvg_tsc_to_ns(pio), t_all ? (uint64_t)2 * done * hvg_tsc_hz() / t_all : 0,
		       t_stream ? (uint64_t)sent * hvg_tsc_hz() / t_stream : 0, busy, hvg_tsc_hz());
	}
	report_prefix_pop();
}

static void reply(uint32_t type, uint32_t seq)
{
	uint16_t st = post_retry(me->conn_out, type, seq, me->salt_out, 10000, NULL);

	if (st != HV_STATUS_SUCCESS)
		report_info("answer %#x/%u: post status %#x", type, seq, st);
}

static GUEST_NORETURN void triple_fault(void)
{
	struct desc_ptr none = { 0, 0 };

	printf("crasher: triple-faulting now\n");
	cli();
	lidt(&none);
	__asm__ volatile("ud2");
	for (;;)
		cli_hlt();
}

/* Responder: answer hello and every ping; count the stream. Waits with `sti; hlt`. */
static void run_responder(unsigned count, unsigned streamed)
{
	const uint32_t conn_in = CONN_PING_TO_PONG;
	unsigned crash_after = me->self_tests ? MAX_COUNT + 1 : opt("crash-after", 3, MAX_COUNT);
	struct hv_message m;
	unsigned answered = 0, eoms_before;
	uint32_t got = 0, errs = 0;
	bool ok = true;

	report_prefix_push("pingpong");
	rx_wait_hlt();
	rx_take(&m);
	if (!check_msg(&m, TYPE_HELLO, 0, me->salt_in, conn_in)) {
		describe("hello", &m);
		ok = false;
	}
	reply(TYPE_HELLO, 0);
	for (uint32_t i = 0; i < count && ok; i++) {
		if (answered == crash_after)
			triple_fault();
		rx_wait_hlt();
		rx_take(&m);
		if (m.header.message_type == TYPE_QUIT) {
			report_info("the initiator gave up at ping %u", i);
			ok = false;
			break;
		}
		if (!check_msg(&m, TYPE_PING, i, me->salt_in, conn_in)) {
			describe("wrong ping", &m);
			ok = false;
			break;
		}
		reply(TYPE_PONG, i);
		answered++;
	}
	report(ok && answered == count, "answered %u pings in order, payloads intact (%u)", count, answered);
	report_prefix_pop();

	report_prefix_push("stream");
	eoms_before = eoms_in;
	while (ok && got < streamed) {
		rx_wait_hlt();
		rx_take(&m);
		if (m.header.message_type == TYPE_QUIT) {
			report_info("the initiator gave up at stream message %u", got);
			errs++;
			break;
		}
		if (!check_msg(&m, TYPE_STREAM, got, me->salt_in, conn_in)) {
			if (!errs)
				describe("stream out of order", &m);
			errs++;
		}
		got++;
	}
	{
		/* The ACK: seq 0's size (240), got and errs in bytes 4..11 over the pattern. */
		volatile uint32_t *in = (volatile uint32_t *)hc_in;
		uint16_t st;
		uint64_t deadline = hvg_deadline_ms(10000);
		do {
			in[0] = me->conn_out;
			in[1] = 0;
			in[2] = TYPE_ACK;
			in[3] = 12;
			in[4] = 0;
			in[5] = got;
			in[6] = errs;
			st = hv_status(hv_call(HVCALL_POST_MESSAGE, (uintptr_t)hc_in, 0));
		} while (st == HV_STATUS_INSUFFICIENT_BUFFERS && !hvg_expired(deadline));
		report(st == HV_STATUS_SUCCESS, "ack posted (%#x)", st);
	}
	report(got == streamed && errs == 0, "%u stream messages in order and intact (%u errors)", got, errs);
	report(eoms_in > eoms_before, "the stream needed EOMs: MessagePending seen %u times",
	       eoms_in - eoms_before);
	report(kicks == 0, "never stalled: no wake-up event from the initiator (%u; first one found the slot "
	       "type %#x flags %#x after %u messages)", kicks, kick_slot_type, kick_slot_flags, kick_irr_hint);
	report_info("interrupts %u, of them with an empty slot %u", irq_in, spurious_in);
	report_prefix_pop();
}

int guest_main(const struct hvrun_boot_info *bi)
{
	unsigned count, streamed;

	(void)bi;
	for (unsigned i = 0; i < ARRAY_SIZE(roles); i++)
		if (hvg_cmdline_has(roles[i].name))
			me = &roles[i];
	if (!me) {
		report_error("no role on the command line (ping, pong, survivor, crasher): '%s'",
			     boot_info->cmdline);
		return report_summary();
	}
	report_prefix_push(me->name);
	count = opt("count", 50, MAX_COUNT);
	streamed = opt("stream", 200, 100000);
	if (!hv_enable_hypercalls(hcpage)) {
		report_error("no Hyper-V interface or hypercall page");
		return report_summary();
	}
	synic_setup();
	sti();
	if (me->self_tests) {
		test_post_errors();
		test_backpressure();
		test_events();
		if (me->initiator)
			test_synic_state();
	}
	if (me->initiator)
		run_initiator(count, streamed);
	else
		run_responder(count, streamed);
	cli();
	if (me->initiator && report_status() == REPORT_FAILURE)
		(void)post(me->conn_out, TYPE_QUIT, 0, 0);       /* do not leave the peer in hlt */
	report_prefix_pop();
	return report_summary();
}
