/* SPDX-License-Identifier: MIT */
/* A 16550-compatible UART for polling guests: register file and the port service on 0x3F8. */
#ifndef DEV_UART_H
#define DEV_UART_H

#include <stdint.h>

#include "dev/console.h"
#include "vmm/router.h"

#define UART_RBR_THR 0   /* DLAB=1: DLL */
#define UART_IER     1   /* DLAB=1: DLM */
#define UART_IIR_FCR 2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_MSR     6
#define UART_SCR     7

#define UART_LCR_DLAB  0x80
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40

struct dev_uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	struct dev_console *console;
};

void dev_uart_init(struct dev_uart *u, struct dev_console *console);
uint8_t dev_uart_read(struct dev_uart *u, unsigned reg);
void dev_uart_write(struct dev_uart *u, unsigned reg, uint8_t val);

/* Router service for ports [0x3F8, 0x400); opaque is a struct dev_uart. */
extern const struct vmm_service dev_uart_service;

#endif /* DEV_UART_H */
