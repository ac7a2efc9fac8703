/*
 * What a job sees of 127.0.0.1 (the namespace tests): a listener of its own
 * on a free port that it connects to, and a connection to PORT (argv[1]),
 * which the test listens on in the host's network namespace. Prints two
 * lines: "own: ok" or "own: ERROR", and "host: connected" or "host: ERROR".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static const char *own(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	char byte = 0;

	if (l < 0 || c < 0)
		return strerror(errno);
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		return strerror(errno);
	if (connect(c, (struct sockaddr *)&a, sizeof a) < 0 || (s = accept(l, NULL, NULL)) < 0)
		return strerror(errno);
	if (write(s, "x", 1) != 1 || read(c, &byte, 1) != 1 || byte != 'x')
		return "no data";
	return "ok";
}

static const char *host(int port)
{
	struct sockaddr_in a = loopback(port);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0)
		return strerror(errno);
	if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
		return strerror(errno);
	return "connected";
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	printf("own: %s\n", own());
	printf("host: %s\n", host(atoi(argv[1])));
	return 0;
}
