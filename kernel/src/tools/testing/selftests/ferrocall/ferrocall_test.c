// SPDX-License-Identifier: GPL-2.0
/*
 * Typed system calls (ferrocall): the opt-in, the seed's demonstration value,
 * a bad request pointer, and a seccomp rule on the typed path.
 *
 * A typed call passes the address of a request in RAX, the operation in RDI
 * and the request size in RSI (see include/uapi/linux/ferrocall.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ferrocall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "../kselftest.h"

struct useless_request {
	struct ferrocall_header header;
	struct ferrocall_answer answer;
	struct ferrocall_useless_args args;
};

struct getpid_request {
	struct ferrocall_header header;
	struct ferrocall_answer answer;
};

/* A typed call: 0 or -errno, the answer in the request. */
static long typed_call(void *request, unsigned long op, unsigned long size)
{
	long ret;

	asm volatile ("syscall"
		      : "=a" (ret)
		      : "a" (request), "D" (op), "S" (size), "d" (request)
		      : "rcx", "r11", "memory");
	return ret;
}

static void useless(struct useless_request *req, __u32 value)
{
	memset(req, 0, sizeof(*req));
	req->header.size = sizeof(*req);
	req->header.op = FERROCALL_OP_USELESS;
	req->args.value = value;
}

static int opt_in(void)
{
	int version = prctl(PR_FERROCALL, PR_FERROCALL_ENABLE, 0, 0, 0);

	if (version < 0 && errno == EINVAL)
		ksft_exit_skip("the kernel has no typed system calls (CONFIG_FERROCALL)\n");
	return version;
}

static void test_demo(void)
{
	struct useless_request req;
	long ret;

	useless(&req, 15);
	ret = typed_call(&req, FERROCALL_OP_USELESS, sizeof(req));
	ksft_test_result(ret == 0 && req.answer.state == FERROCALL_ANSWER_DONE &&
			 req.answer.error == 0 && req.answer.value == 30,
			 "Useless(15) answers 30\n");
}

static void test_bad_pointer(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *gone = mmap(NULL, page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ret, by_number;

	if (gone == MAP_FAILED) {
		ksft_test_result_fail("mmap: %s\n", strerror(errno));
		return;
	}
	munmap(gone, page);
	ret = typed_call(gone, FERROCALL_OP_USELESS, FERROCALL_SIZE_USELESS);
	by_number = syscall(__NR_ferrocall, FERROCALL_OP_USELESS,
			    FERROCALL_SIZE_USELESS, gone);
	ksft_test_result(ret == -EFAULT && by_number == -1 && errno == EFAULT,
			 "an unmapped request is EFAULT\n");
}

/* In a child: EPERM for typed Useless, every other call allowed. */
static int child_under_filter(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ferrocall, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FERROCALL_OP_USELESS, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(insns),
		.filter = insns,
	};
	struct useless_request req;
	struct getpid_request pid;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 10;
	useless(&req, 15);
	if (typed_call(&req, FERROCALL_OP_USELESS, sizeof(req)) != -EPERM)
		return 11;
	if (req.answer.state != FERROCALL_ANSWER_PENDING)
		return 12;
	memset(&pid, 0, sizeof(pid));
	pid.header.size = sizeof(pid);
	pid.header.op = FERROCALL_OP_GETPID;
	if (typed_call(&pid, FERROCALL_OP_GETPID, sizeof(pid)) != 0)
		return 13;
	if (pid.answer.value != (__u64)getpid())
		return 14;
	return 0;
}

static void test_seccomp(void)
{
	int status = 0;
	pid_t child = fork();

	if (child == 0)
		_exit(child_under_filter());
	if (child < 0 || waitpid(child, &status, 0) != child) {
		ksft_test_result_fail("fork: %s\n", strerror(errno));
		return;
	}
	ksft_test_result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			 "seccomp filters typed calls by operation (child status %d)\n",
			 status);
}

int main(void)
{
	int version;

	ksft_print_header();
	version = opt_in();
	ksft_set_plan(4);
	ksft_test_result(version >= FERROCALL_ABI_VERSION,
			 "the opt-in answers ABI version %d\n", version);
	test_demo();
	test_bad_pointer();
	test_seccomp();
	ksft_finished();
}
