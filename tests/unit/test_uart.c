/* SPDX-License-Identifier: MIT */
/* 16550 register tests, directly and through the router as port I/O messages. */
#include "dev/uart.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_run.h"
#include "vmm/decode.h"

static void test_reset_state(void **state)
{
	struct dev_uart u;

	(void)state;
	dev_uart_init(&u, NULL);
	assert_int_equal(dev_uart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(dev_uart_read(&u, UART_IIR_FCR) & 1, 1);     /* no interrupt pending */
	assert_int_equal(dev_uart_read(&u, UART_LCR), 0x03);
	assert_int_equal(dev_uart_read(&u, UART_RBR_THR), 0);         /* no input */
}

static void test_scratch_ier_lcr_mcr(void **state)
{
	struct dev_uart u;

	(void)state;
	dev_uart_init(&u, NULL);
	dev_uart_write(&u, UART_SCR, 0xa5);
	assert_int_equal(dev_uart_read(&u, UART_SCR), 0xa5);
	dev_uart_write(&u, UART_IER, 0xff);
	assert_int_equal(dev_uart_read(&u, UART_IER), 0x0f);           /* upper bits reserved */
	dev_uart_write(&u, UART_MCR, 0x0b);
	assert_int_equal(dev_uart_read(&u, UART_MCR), 0x0b);
	dev_uart_write(&u, UART_LSR, 0);                               /* read-only */
	assert_int_equal(dev_uart_read(&u, UART_LSR), 0x60);
	dev_uart_write(&u, UART_IIR_FCR, 0x07);
	assert_int_equal(dev_uart_read(&u, UART_IIR_FCR), 0xc1);
}

static void test_divisor_latch(void **state)
{
	struct dev_uart u;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dev_console c;

	(void)state;
	assert_int_equal(dev_console_init(&c, f, NULL), 0);
	dev_uart_init(&u, &c);
	dev_uart_write(&u, UART_IER, 0x05);
	dev_uart_write(&u, UART_LCR, 0x83);            /* DLAB on */
	dev_uart_write(&u, UART_RBR_THR, 0x0c);        /* DLL: must not print */
	dev_uart_write(&u, UART_IER, 0x00);            /* DLM: must not change IER */
	assert_int_equal(dev_uart_read(&u, UART_RBR_THR), 0x0c);
	assert_int_equal(dev_uart_read(&u, UART_IER), 0x00);
	dev_uart_write(&u, UART_LCR, 0x03);            /* DLAB off */
	assert_int_equal(dev_uart_read(&u, UART_IER), 0x05);
	dev_uart_write(&u, UART_RBR_THR, 'k');
	dev_uart_write(&u, UART_RBR_THR, '\n');
	dev_console_fini(&c);
	fclose(f);
	assert_string_equal(buf, "k\n");
	free(buf);
}

static void test_loopback(void **state)
{
	struct dev_uart u;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dev_console c;

	(void)state;
	assert_int_equal(dev_console_init(&c, f, NULL), 0);
	dev_uart_init(&u, &c);
	dev_uart_write(&u, UART_MCR, 0x10 | 0x02);     /* loopback + RTS -> CTS */
	assert_int_equal(dev_uart_read(&u, UART_MSR), 0x10);
	dev_uart_write(&u, UART_RBR_THR, 'x');         /* loopback: nothing goes out */
	dev_uart_write(&u, UART_MCR, 0);
	assert_int_equal(dev_uart_read(&u, UART_MSR), 0xb0);
	dev_console_fini(&c);
	fclose(f);
	assert_true(buf == NULL || buf[0] == 0);
	free(buf);
}

static void test_service_word_access_splits_bytes(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_decode_ctx ctx = { 0 };
	struct vmm_router *r;
	struct dev_uart u;
	struct hv_message m;
	struct vmm_vp_state st = { .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;

	(void)state;
	dev_uart_init(&u, NULL);
	assert_int_equal(vmm_router_create(&r), 0);
	assert_int_equal(vmm_router_register(r, &dev_uart_service, &u), 0);

	/* outw to 0x3fe writes MSR (ignored) and SCR = high byte. */
	fake_run_io(run, 0x3fe, 1, 2, 1, 0x7700);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(u.scr, 0x77);

	/* inw from 0x3fc reads MCR (low) and LSR (high). */
	dev_uart_write(&u, UART_MCR, 0x03);
	fake_run_io(run, 0x3fc, 0, 2, 1, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(reply.action, VMM_ACT_RESUME);
	assert_int_equal(reply.data, 0x6003);

	/* inw from 0x3ff: SCR, then a byte past the UART that floats high. */
	fake_run_io(run, 0x3ff, 0, 2, 1, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(reply.data, 0xff77);

	vmm_router_destroy(r);
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_scratch_ier_lcr_mcr),
		cmocka_unit_test(test_divisor_latch),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_service_word_access_splits_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
