/* /proc for a daemon started before anything mounted it.
 *
 * The kernel starts init with no file system mounted but the root. The
 * Swift runtime of a static executable finds its own path with
 * readlink("/proc/self/exe") as it starts, and aborts when that fails
 * ("Unable to obtain Swift runtime path"), before any Swift code runs.
 * Upstart's init mounted /proc itself as it started; so does Daybreak,
 * here, in a constructor that runs before the runtime's (priority 101,
 * ahead of C++ initializers of default priority): when this process is
 * PID 1 and /proc/self/exe cannot be read, it mounts proc on /proc
 * (making the directory if it is missing). Any other process, and a PID 1
 * that finds /proc in place (a container, a pid namespace, an initramfs
 * that mounted it), changes nothing.
 *
 * Every executable linking CSpawn has it; only PID 1 is ever affected.
 * docs/running.md, "As PID 1 on a machine". */
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((constructor(101), used))
void cearly_mount_proc(void)
{
	char buf[8];

	if (getpid() != 1 || readlink("/proc/self/exe", buf, sizeof buf) > 0)
		return;
	(void)mkdir("/proc", 0555);
	(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}
