/* SPDX-License-Identifier: MIT */
/* 16550 register behaviour: THR to the console, always-ready LSR, DLAB latch, scratch, IER/LCR/MCR. */
#include "dev/uart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvrun/abi.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/msg.h"

void dev_uart_init(struct dev_uart *u, struct dev_console *console)
{
	memset(u, 0, sizeof(*u));
	u->console = console;
	u->lcr = 0x03;   /* 8N1 */
	u->dll = 0x01;   /* 115200 baud */
}

uint8_t dev_uart_read(struct dev_uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : 0;        /* no input: RBR reads 0 */
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		/* No interrupt pending (bit0=1); FIFO-enabled bits mirror FCR bit0. */
		return (u->fcr & 1) ? 0xC1 : 0x01;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		/* Transmitter always empty, no data ready: a polling writer never waits. */
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		/* Loopback reflects MCR outputs; otherwise report CTS, DSR and DCD asserted. */
		if (u->mcr & 0x10)
			return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
					 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
		return 0xB0;
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

void dev_uart_write(struct dev_uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = val;
		else if (!(u->mcr & 0x10) && u->console)   /* loopback mode transmits nothing */
			dev_console_putc(u->console, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case UART_IIR_FCR:
		u->fcr = val & 0xc9;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		break;   /* LSR and MSR are read-only */
	}
}

/* A 2- or 4-byte access covers consecutive registers, byte by byte. */
static int uart_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct dev_uart *u = opaque;
	const struct hv_x64_io_port_intercept *io = vmm_msg_io(exit->msg);
	unsigned size = vmm_msg_io_size(exit->msg);
	uint64_t data = vmm_msg_io_ext(exit->msg)->data;
	uint64_t result = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned port = io->port + i;
		if (port < HVRUN_PORT_UART0 || port >= HVRUN_PORT_UART0 + 8) {
			result |= 0xffull << (8 * i);   /* the part of the access past the UART floats */
			continue;
		}
		if (vmm_msg_is_write(exit->msg))
			dev_uart_write(u, port - HVRUN_PORT_UART0, (uint8_t)(data >> (8 * i)));
		else
			result |= (uint64_t)dev_uart_read(u, port - HVRUN_PORT_UART0) << (8 * i);
	}
	reply->action = VMM_ACT_RESUME;
	reply->data = result;
	return 0;
}

const struct vmm_service dev_uart_service = {
	.name = "uart",
	.msg_type = HVMSG_X64_IO_PORT_INTERCEPT,
	.base = HVRUN_PORT_UART0,
	.size = 8,
	.state_mask = 0,
	.handle = uart_handle,
};

static int uart_module_create(struct partition *p, void **state)
{
	struct dev_uart *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	dev_uart_init(u, &p->console);
	ret = vmm_router_register(p->router, &dev_uart_service, u);
	if (ret) {
		free(u);
		return ret;
	}
	*state = u;
	return 0;
}

static void uart_module_destroy(struct partition *p, void *state)
{
	vmm_router_unregister(p->router, &dev_uart_service, state);
	free(state);
}

const struct part_module dev_uart_module = {
	.name = "uart",
	.create = uart_module_create,
	.destroy = uart_module_destroy,
};
