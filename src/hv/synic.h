/* SPDX-License-Identifier: MIT */
/* SynIC message slots: posting into a SIM page slot, the per-SINT queue, and EOM redelivery. */
#ifndef HV_SYNIC_H
#define HV_SYNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/message.h"

#define HV_SYNIC_QUEUE_DEPTH 4u

struct hv_msg_queue {
	struct hv_message msg[HV_SYNIC_QUEUE_DEPTH];
	uint8_t head;
	uint8_t count;
};

/*
 * Post `m` into `slot` (one 256-byte SIM page slot) or behind it in `q` (pure, unit-tested).
 * The slot is free when its message type is 0 (TLFS); when it is busy the message waits and
 * the slot's MessagePending flag tells the guest to write EOM. Returns 1 if a message went
 * into the slot now (this one or an older queued one: raise the SINT), 0 if it only queued,
 * -ENOBUFS if the queue is full too.
 */
int hv_synic_deliver(struct hv_message *slot, struct hv_msg_queue *q, const struct hv_message *m);
/* After EOM: move the next queued message into the slot if the guest freed it. 1 if one moved. */
int hv_synic_redeliver(struct hv_message *slot, struct hv_msg_queue *q);

#endif /* HV_SYNIC_H */
