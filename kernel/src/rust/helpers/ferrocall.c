// SPDX-License-Identifier: GPL-2.0

#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs_struct.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

/*
 * Newer kernels' helpers.c defines __rust_helper (empty for bindgen,
 * __always_inline otherwise, so that CONFIG_RUST_INLINE_HELPERS can inline
 * the helpers into Rust code); 6.12 has no such annotation.
 */
#ifndef __rust_helper
#define __rust_helper
#endif

__rust_helper pid_t rust_helper_task_ppid_nr_ns(const struct task_struct *tsk,
						struct pid_namespace *ns)
{
	return task_ppid_nr_ns(tsk, ns);
}

/*
 * get_fs_pwd(current->fs, pwd) and get_fs_root(current->fs, root), as
 * getcwd() starts. The task_struct field is read here, in C: Rust code must
 * not depend on bindgen laying out task_struct exactly as the C compiler
 * does.
 */
__rust_helper void rust_helper_ferrocall_get_current_pwd(struct path *pwd)
{
	get_fs_pwd(current->fs, pwd);
}

__rust_helper void rust_helper_ferrocall_get_current_root(struct path *root)
{
	get_fs_root(current->fs, root);
}

__rust_helper int rust_helper_d_unlinked(const struct dentry *dentry)
{
	return d_unlinked(dentry);
}

/*
 * getuid(): the real user id, in the caller's user namespace. current_uid()
 * is a macro and from_kuid_munged() is static inline without user namespaces.
 */
__rust_helper uid_t rust_helper_ferrocall_getuid(void)
{
	return from_kuid_munged(current_user_ns(), current_uid());
}

/*
 * Copies the first @len bytes of a typed request, a multiple of 8, in one
 * user-access window: a request is a few words, and the generic
 * _copy_from_user() path costs more than the words themselves. The words of
 * a request of this ABI are read unrolled (a loop costs more per word than
 * the load); a longer one, up to MAX_REQUEST_SIZE, in a loop. 0 on success,
 * -EFAULT when any word cannot be read.
 */
__rust_helper int rust_helper_ferrocall_copy_request(void *dst,
						     const void __user *src,
						     unsigned long len)
{
	const u64 __user *from = src;
	u64 *to = dst;
	unsigned long words = len / sizeof(u64);

	if (can_do_masked_user_access())
		from = masked_user_access_begin(from);
	else if (!user_read_access_begin(from, len))
		return -EFAULT;
	switch (words) {
	case 9:
		unsafe_get_user(to[8], &from[8], efault);
		fallthrough;
	case 8:
		unsafe_get_user(to[7], &from[7], efault);
		fallthrough;
	case 7:
		unsafe_get_user(to[6], &from[6], efault);
		fallthrough;
	case 6:
		unsafe_get_user(to[5], &from[5], efault);
		fallthrough;
	case 5:
		unsafe_get_user(to[4], &from[4], efault);
		fallthrough;
	case 4:
		unsafe_get_user(to[3], &from[3], efault);
		fallthrough;
	case 3:
		unsafe_get_user(to[2], &from[2], efault);
		fallthrough;
	case 2:
		unsafe_get_user(to[1], &from[1], efault);
		fallthrough;
	case 1:
		unsafe_get_user(to[0], &from[0], efault);
		fallthrough;
	case 0:
		break;
	default:
		for (; words; words--)
			unsafe_get_user(*to++, from++, efault);
	}
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

/*
 * Writes the answer slot of a typed request, its two words, in one
 * user-access window, for the same reason. 0 on success, -EFAULT when it
 * cannot be written.
 */
__rust_helper int rust_helper_ferrocall_put_answer(void __user *slot,
						   u64 value, u64 status)
{
	u64 __user *to = slot;

	if (can_do_masked_user_access())
		to = masked_user_access_begin(to);
	else if (!user_write_access_begin(to, 2 * sizeof(u64)))
		return -EFAULT;
	unsafe_put_user(value, &to[0], efault);
	unsafe_put_user(status, &to[1], efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}
