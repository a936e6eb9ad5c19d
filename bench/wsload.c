/* wsload: Socket.IO fan-out load client for bench/fanout.py (--client c).
 *
 * The Python workers (bench/sioclient.py) spend about as much CPU receiving a frame as the
 * server spends sending it, so on a small machine they cap the measurable throughput. This
 * client speaks just enough Engine.IO v4 / Socket.IO v5 over WebSocket (text frames, no
 * compression) on plain non-blocking sockets driven by one epoll loop, so a delivered frame
 * costs one memcmp, one memmem and one strtod.
 *
 *   wsload MEMBERS_FILE RATE_PER_ROOM DURATION_S
 *
 * MEMBERS_FILE has one "port room_id token" line per connection. The client connects and
 * joins everybody (at most MAX_PENDING handshakes at a time: the server reads the database
 * per join), prints "ready CONNECTED FAILED", waits for a "go" line on stdin (answering
 * heartbeats meanwhile), sends chat:send for DURATION_S seconds, keeps receiving for DRAIN_S
 * more, prints one JSON line of results and exits.
 *
 * Build: gcc -O2 -Wall -Wextra -o wsload wsload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 200        /* connects + joins in flight */
#define SETUP_TIMEOUT_S 600.0  /* give up on connections not joined by then */
#define DRAIN_S 2.0            /* keep measuring after the last send */
#define BUCKET_MS 0.01         /* latency histogram resolution ... */
#define BUCKETS 1000000        /* ... up to 10 s; slower deliveries go to `overflow` */
#define STDIN_TAG UINT32_MAX   /* epoll data for stdin (connections use their index) */
#define JOIN_RETRIES 20        /* room:join answered "room is busy": retry after a pause */

enum state { IDLE, CONNECTING, UPGRADING, EIO_OPENING, SIO_CONNECTING, JOINING, READY, DEAD };

struct conn {
    int fd, state, port, room_id, room; /* room: index into rooms[] */
    int retries;
    double retry_at; /* > 0: resend room:join then */
    char *token;
    char *rbuf; /* bytes of an incomplete frame carried over to the next read */
    size_t rlen, rcap;
    char *wbuf; /* bytes the kernel did not take yet (sent on EPOLLOUT) */
    size_t wlen, wcap;
};

struct room {
    int id, first, n; /* members are conns[first .. first+n) (sorted by room) */
    int nready;       /* joined and still connected: receivers of each message */
    unsigned next;    /* round-robin sender: the flood limit is per user */
};

static struct conn *conns;
static int nconns;
static int *order; /* start order: rooms interleaved, so concurrent joins hit many rooms */
static struct room *rooms;
static int nrooms;
static int epfd;

static int pending, started, nready, nfailed, ready_reported, nretry;
static int measuring;
static long long sent, deliveries, expected, errors, disconnects, overflow;
static double lat_sum, lat_max;
static uint32_t *hist;
static int error_prints;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wall clock in ms: the send time travels inside the message and is compared on receipt. */
static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror("realloc");
        exit(1);
    }
    return p;
}

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n > *cap) {
        *cap = (*len + n) * 2 > 4096 ? (*len + n) * 2 : 4096;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, data, n);
    *len += n;
}

static void report_error(struct conn *c, const char *what, const char *detail, size_t n)
{
    if (error_prints++ < 5)
        fprintf(stderr, "wsload: conn %d (room %d): %s %.*s\n", (int)(c - conns), c->room_id,
                what, (int)(n > 200 ? 200 : n), detail ? detail : "");
}

/* Setup finished (joined or failed) for one connection: let the next one start. */
static void setup_done(int ok)
{
    pending--;
    if (ok)
        nready++;
    else
        nfailed++;
}

static void conn_close(struct conn *c)
{
    if (c->state == DEAD)
        return;
    if (c->retry_at > 0) {
        c->retry_at = 0;
        nretry--;
    }
    if (c->state == READY) {
        rooms[c->room].nready--;
        disconnects++;
    } else {
        setup_done(0);
    }
    close(c->fd); /* also removes it from the epoll set */
    c->state = DEAD;
    free(c->rbuf);
    free(c->wbuf);
    c->rbuf = c->wbuf = NULL;
    c->rlen = c->rcap = c->wlen = c->wcap = 0;
}

/* Send as much as the kernel takes now: the bytes sent, or -1 when the connection failed. */
static ssize_t send_some(int fd, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && errno == EAGAIN)
            break;
        else
            return -1;
    }
    return (ssize_t)off;
}

/* Write what the kernel takes; queue the rest until EPOLLOUT (edge-triggered). */
static void conn_write(struct conn *c, const char *data, size_t n)
{
    if (c->wlen == 0) {
        ssize_t sent = send_some(c->fd, data, n);
        if (sent < 0) {
            conn_close(c);
            return;
        }
        data += sent;
        n -= (size_t)sent;
    }
    if (n > 0)
        append(&c->wbuf, &c->wlen, &c->wcap, data, n);
}

static void conn_flush(struct conn *c)
{
    ssize_t sent = send_some(c->fd, c->wbuf, c->wlen);
    if (sent < 0) {
        conn_close(c);
        return;
    }
    memmove(c->wbuf, c->wbuf + sent, c->wlen - (size_t)sent);
    c->wlen -= (size_t)sent;
}

/* Client-to-server frames must be masked (RFC 6455 5.3). The key need not be secret here;
 * a cheap xorshift keeps it non-constant. */
static void ws_send(struct conn *c, int opcode, const char *payload, size_t n)
{
    static uint32_t seed = 2463534242u;
    char stack[512], *frame = n + 14 <= sizeof stack ? stack : xrealloc(NULL, n + 14);
    size_t h = 0;
    frame[h++] = (char)(0x80 | opcode);
    if (n < 126) {
        frame[h++] = (char)(0x80 | n);
    } else if (n < 65536) {
        frame[h++] = (char)(0x80 | 126);
        frame[h++] = (char)(n >> 8);
        frame[h++] = (char)n;
    } else {
        frame[h++] = (char)(0x80 | 127);
        for (int i = 7; i >= 0; i--)
            frame[h++] = (char)((uint64_t)n >> (8 * i));
    }
    seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
    unsigned char key[4];
    memcpy(key, &seed, 4);
    memcpy(frame + h, key, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        frame[h + i] = (char)(payload[i] ^ key[i & 3]);
    conn_write(c, frame, h + n);
    if (frame != stack)
        free(frame);
}

static void ws_text(struct conn *c, const char *s, size_t n) { ws_send(c, 0x1, s, n); }

static void record_latency(double ms)
{
    if (ms < 0)
        ms = 0; /* same machine, same clock: only rounding can make it negative */
    long b = (long)(ms / BUCKET_MS);
    if (b < BUCKETS)
        hist[b]++;
    else
        overflow++;
    lat_sum += ms;
    if (ms > lat_max)
        lat_max = ms;
    deliveries++;
}

/* room:join with ack id 1 (the only call we make, so the id can be reused on retries). */
static void send_join(struct conn *c)
{
    char out[128];
    int len = snprintf(out, sizeof out, "421[\"room:join\",{\"roomId\":%d}]", c->room_id);
    ws_text(c, out, len);
}

/* One complete Engine.IO packet (a WebSocket text message). */
static void on_message(struct conn *c, const char *p, size_t n)
{
    char out[1100]; /* tokens are at most 1023 characters (load_members) */
    if (n >= 17 && memcmp(p, "42[\"chat:message\"", 17) == 0) { /* the hot path */
        if (!measuring)
            return;
        const char *t = memmem(p, n, "\"text\":\"t=", 10);
        if (t)
            record_latency(wall_ms() - strtod(t + 10, NULL)); /* a '"' ends the number */
        return;
    }
    if (n == 1 && p[0] == '2') { /* Engine.IO ping: pong at once or the server drops us */
        ws_text(c, "3", 1);
        return;
    }
    if (n >= 1 && p[0] == '1') { /* Engine.IO close */
        conn_close(c);
        return;
    }
    switch (c->state) {
    case EIO_OPENING:
        if (n >= 1 && p[0] == '0') {
            int len = snprintf(out, sizeof out, "40{\"token\":\"%s\"}", c->token);
            c->state = SIO_CONNECTING; /* before writing: a failed write marks it DEAD */
            ws_text(c, out, len);
        }
        break;
    case SIO_CONNECTING:
        if (n >= 2 && memcmp(p, "40", 2) == 0) {
            c->state = JOINING;
            send_join(c);
        } else if (n >= 2 && memcmp(p, "44", 2) == 0) {
            report_error(c, "connect refused:", p, n);
            conn_close(c);
        }
        break;
    case JOINING:
        if (n >= 3 && memcmp(p, "431", 3) == 0) { /* ack 1 = our room:join */
            if (memmem(p, n < 64 ? n : 64, "\"ok\":true", 9)) {
                c->state = READY;
                rooms[c->room].nready++;
                setup_done(1);
            } else if (memmem(p, n, "\"conflict\"", 10) && c->retries < JOIN_RETRIES) {
                /* The server's per-room presence lock timed out under concurrent joins. */
                c->retries++;
                c->retry_at = mono_s() + 0.05 * c->retries;
                nretry++;
            } else {
                report_error(c, "room:join failed:", p, n);
                conn_close(c);
            }
        }
        break;
    default: /* other events (participant:joined, presence, ...) are not measured */
        break;
    }
}

/* Parse as many whole frames (or the HTTP upgrade response) from buf as there are; return
 * the bytes consumed. Stops early if the connection died. */
static size_t parse(struct conn *c, const char *buf, size_t len)
{
    size_t off = 0;
    if (c->state == UPGRADING) {
        const char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (!end)
            return 0;
        if (len < 12 || memcmp(buf + 9, "101", 3) != 0) {
            report_error(c, "upgrade refused:", buf, end - buf);
            conn_close(c);
            return len;
        }
        off = end + 4 - buf;
        c->state = EIO_OPENING;
    }
    while (c->state != DEAD && len - off >= 2) {
        const unsigned char *f = (const unsigned char *)buf + off;
        int fin = f[0] & 0x80, opcode = f[0] & 0x0f, masked = f[1] & 0x80;
        uint64_t n = f[1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
            if (len - off < 4)
                break;
            n = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (n == 127) {
            if (len - off < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | f[2 + i];
            h = 10;
        }
        if (masked) /* servers never mask; we'd have to unmask in place, so refuse */
            h += 4;
        if (len - off < h + n)
            break; /* incomplete: wait for more */
        const char *payload = buf + off + h;
        off += h + n;
        if (masked || !fin || opcode == 0x0) {
            /* aiohttp neither masks nor fragments what it sends. */
            report_error(c, "unsupported frame (masked or fragmented)", NULL, 0);
            errors++;
            conn_close(c);
        } else if (opcode == 0x1) {
            on_message(c, payload, n);
        } else if (opcode == 0x9) {
            ws_send(c, 0xA, payload, n);
        } else if (opcode == 0x8) {
            ws_send(c, 0x8, payload, n < 2 ? n : 2); /* echo the status code */
            conn_close(c);
        } /* pong (0xA) and binary frames: ignore */
    }
    return off;
}

static void conn_read(struct conn *c, int hangup)
{
    static char scratch[256 * 1024];
    ssize_t r = sizeof scratch;
    /* Edge-triggered, but a short read means the socket is drained (epoll(7)): skipping the
     * recv that would return EAGAIN halves the syscalls per delivered frame. After a hangup
     * read on to the EOF: no further edge will report it. */
    while (c->state != DEAD && (hangup || r == (ssize_t)sizeof scratch)) {
        r = recv(c->fd, scratch, sizeof scratch, 0);
        if (r == 0) {
            conn_close(c);
        } else if (r < 0) {
            if (errno == EINTR) {
                r = sizeof scratch;
                continue;
            }
            if (errno != EAGAIN)
                conn_close(c);
            return;
        } else if (c->rlen == 0) {
            /* Common case: parse straight from scratch and keep only a split frame's tail. */
            size_t used = parse(c, scratch, r);
            if (c->state != DEAD && used < (size_t)r)
                append(&c->rbuf, &c->rlen, &c->rcap, scratch + used, r - used);
        } else {
            append(&c->rbuf, &c->rlen, &c->rcap, scratch, r);
            size_t used = parse(c, c->rbuf, c->rlen);
            if (c->state != DEAD) {
                memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                c->rlen -= used;
            }
        }
    }
}

static void conn_start(struct conn *c)
{
    pending++;
    started++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        c->state = DEAD;
        setup_done(0);
        return;
    }
    int one = 1; /* small frames: don't let Nagle hold a chat:send back */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        perror("connect");
        conn_close(c);
        return;
    }
    /* Edge-triggered: no epoll_ctl per write; EPOLLOUT also signals connect completion. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        perror("epoll_ctl");
        conn_close(c);
    }
}

static void conn_event(struct conn *c, uint32_t events)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            report_error(c, "connect:", strerror(err), strlen(strerror(err)));
            conn_close(c);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        /* The key only has to be 16 base64-encoded bytes; the server echoes a hash of it. */
        char req[256];
        int n = snprintf(req, sizeof req,
                         "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                         "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n",
                         c->port);
        c->state = UPGRADING;
        conn_write(c, req, n);
    }
    if ((events & EPOLLOUT) && c->wlen)
        conn_flush(c);
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
}

/* Send one chat:send from the room's next live member; its send time is the message text. */
static void send_chat(struct room *r)
{
    for (int tries = 0; tries < r->n; tries++) {
        struct conn *c = &conns[r->first + r->next++ % r->n];
        if (c->state != READY)
            continue;
        char msg[128];
        int n = snprintf(msg, sizeof msg, "42[\"chat:send\",{\"roomId\":%d,\"text\":\"t=%.3f\"}]",
                         r->id, wall_ms());
        ws_text(c, msg, n);
        if (c->state == DEAD) {
            errors++;
            return;
        }
        sent++;
        expected += r->nready; /* delivered to every member, the sender included */
        return;
    }
    errors++; /* nobody left in the room to send */
}

static int by_room(const void *a, const void *b)
{
    const struct conn *x = a, *y = b;
    return (x->room_id > y->room_id) - (x->room_id < y->room_id);
}

static void load_members(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[2048], token[1024];
    int cap = 0, port, room_id;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%d %d %1023s", &port, &room_id, token) != 3)
            continue;
        if (nconns == cap) {
            cap = cap ? cap * 2 : 1024;
            conns = xrealloc(conns, cap * sizeof *conns);
        }
        conns[nconns++] = (struct conn){.fd = -1, .port = port, .room_id = room_id,
                                        .token = strdup(token)};
    }
    fclose(f);
    /* Group by room: each room is then a contiguous slice of conns. */
    qsort(conns, nconns, sizeof *conns, by_room);
    rooms = xrealloc(NULL, (nconns + 1) * sizeof *rooms);
    for (int i = 0; i < nconns; i++) {
        if (i == 0 || conns[i].room_id != conns[i - 1].room_id)
            rooms[nrooms++] = (struct room){.id = conns[i].room_id, .first = i};
        rooms[nrooms - 1].n++;
        conns[i].room = nrooms - 1;
    }
    order = xrealloc(NULL, (nconns + 1) * sizeof *order);
    int k = 0;
    for (int j = 0; k < nconns; j++)
        for (int r = 0; r < nrooms; r++)
            if (j < rooms[r].n)
                order[k++] = rooms[r].first + j;
}

static double percentile(double q)
{
    long long total = deliveries, target = (long long)ceil(q * total), seen = 0;
    if (total == 0)
        return -1;
    for (long b = 0; b < BUCKETS; b++) {
        seen += hist[b];
        if (seen >= target)
            return (b + 1) * BUCKET_MS; /* bucket's upper edge */
    }
    return lat_max; /* in the overflow */
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MEMBERS_FILE RATE_PER_ROOM DURATION_S\n", argv[0]);
        return 2;
    }
    double rate_per_room = atof(argv[2]), duration = atof(argv[3]);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* one fd per connection */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    load_members(argv[1]);
    if (nconns + 16 > (long long)rl.rlim_cur)
        fprintf(stderr, "wsload: %d connections but RLIMIT_NOFILE is %lld\n", nconns,
                (long long)rl.rlim_cur);
    hist = calloc(BUCKETS, sizeof *hist);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    struct epoll_event sev = {.events = EPOLLIN, .data.u32 = STDIN_TAG};
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &sev);

    /* Message k (over all rooms) goes to room k % nrooms at start + k * gap: every room
     * sends at rate_per_room, and the rooms' send times are spread evenly. */
    double gap = 1.0 / (rate_per_room * (nrooms ? nrooms : 1));
    double setup_deadline = mono_s() + SETUP_TIMEOUT_S, start = 0, drain_end = 0;
    long long k = 0;
    int phase = 0; /* 0 setup/waiting for go, 1 sending, 2 draining */
    struct epoll_event events[1024];

    for (;;) {
        while (pending < MAX_PENDING && started < nconns)
            conn_start(&conns[order[started]]);
        if (!ready_reported && nready + nfailed == nconns) {
            printf("ready %d %d\n", nready, nfailed);
            fflush(stdout);
            ready_reported = 1;
        }
        double now = mono_s();
        for (int i = 0; nretry > 0 && i < started; i++) {
            struct conn *c = &conns[order[i]];
            if (c->retry_at > 0 && now >= c->retry_at) {
                c->retry_at = 0;
                nretry--;
                send_join(c);
            }
        }
        if (phase == 0 && !ready_reported && now > setup_deadline) {
            fprintf(stderr, "wsload: setup timed out\n");
            for (int i = 0; i < nconns; i++) {
                if (conns[i].state == IDLE) {
                    conns[i].state = DEAD;
                    nfailed++;
                } else if (conns[i].state != READY) {
                    conn_close(&conns[i]);
                }
            }
            started = nconns;
            continue;
        }
        if (phase == 1) {
            while (phase == 1 && start + k * gap <= now) {
                if (k * gap >= duration) {
                    phase = 2;
                    drain_end = now + DRAIN_S;
                    break;
                }
                send_chat(&rooms[k % nrooms]);
                k++;
            }
        }
        if (phase == 2 && now >= drain_end)
            break;
        int timeout = nretry > 0 ? 10 : 1000;
        if (phase == 1)
            timeout = (int)ceil((start + k * gap - now) * 1e3);
        else if (phase == 2)
            timeout = (int)ceil((drain_end - now) * 1e3);
        int n = epoll_wait(epfd, events, 1024, timeout < 0 ? 0 : timeout);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.u32 == STDIN_TAG) {
                char cmd[64];
                ssize_t r = read(0, cmd, sizeof cmd);
                if (r == 0) { /* parent gone */
                    fprintf(stderr, "wsload: stdin closed, exiting\n");
                    return 1;
                }
                if (r > 0 && phase == 0 && memmem(cmd, r, "go", 2)) {
                    phase = 1;
                    measuring = 1;
                    start = mono_s();
                }
                continue;
            }
            conn_event(&conns[events[i].data.u32], events[i].events);
        }
    }
    measuring = 0;

    printf("{\"connected\":%d,\"failed\":%d,\"rooms\":%d,\"sent\":%lld,\"deliveries\":%lld,"
           "\"expected\":%lld,\"errors\":%lld,\"disconnects\":%lld,\"overflow\":%lld,"
           "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f}\n",
           nready, nfailed, nrooms, sent, deliveries, expected, errors, disconnects, overflow,
           percentile(0.5), percentile(0.9), percentile(0.99), deliveries ? lat_max : -1.0,
           deliveries ? lat_sum / deliveries : -1.0);
    fflush(stdout);
    for (int i = 0; i < nconns; i++) {
        if (conns[i].state == READY) {
            ws_send(&conns[i], 0x8, "\x03\xe8", 2); /* 1000 normal closure */
            conn_close(&conns[i]);
        }
    }
    return 0;
}
