/*
 * pagevisor.conf: the hypervisor's configuration, read from the ESP next to
 * pagevisor.efi. One "key value" per line, systemd-boot loader-entry style:
 *
 *     # comment
 *     linux   /vmlinuz
 *     initrd  /initrd.img
 *     options console=ttyS0
 *     options quiet              (repeatable; joined with single spaces)
 *     memory  512M
 *     frames  256M               (frames < memory: overcommit)
 *
 * The UEFI front end reads the file into memory and calls config_parse();
 * the parser is freestanding (no allocation, fixed buffers) so host tests
 * and the fuzzer run the same code the hypervisor runs.
 *
 * File rules: LF or CRLF line endings, an optional UTF-8 BOM at the start,
 * lines of at most CONFIG_LINE_MAX bytes (terminator excluded), blank lines
 * and lines whose first non-blank character is '#' ignored. A NUL or other
 * control character (tab excepted; CR only as part of CRLF) is an error.
 * Keys are lowercase and case-sensitive; the value is the rest of the line
 * with surrounding blanks removed and must not be empty. Every key except
 * "options" may appear once.
 *
 * Keys and defaults:
 *   linux PATH       guest bzImage; absolute ('/' first), '/' or '\' as
 *                    separators, at most CONFIG_PATH_MAX - 1 bytes, not
 *                    ending in a separator. Default: none (no guest).
 *   initrd PATH      same rules; requires linux. Default: none.
 *   options TEXT     kernel command line, at most CONFIG_OPTIONS_MAX - 1
 *                    bytes once joined. Default: empty.
 *   memory SIZE      guest RAM, CONFIG_MEMORY_MIN..CONFIG_MEMORY_MAX, 4K
 *                    multiple. Default CONFIG_MEMORY_DEFAULT (256M).
 *   frames SIZE      host frames that may back guest RAM; at least
 *                    CONFIG_FRAMES_MIN, 4K multiple, at most memory.
 *                    Default: equal to memory.
 *   swap DEV         none (default) | auto | virtio | ata |
 *                    PCI address BB:DD.F or SSSS:BB:DD.F (hex).
 *   readahead POL    off | cluster (= cluster:8) | cluster:N
 *                    (N a power of two, 1..256) | auto (default).
 *   console PORT     com1 (default) | com2 | com3 | com4 | hex I/O port
 *                    0xNNNN (nonzero).
 *   console-data HOW pass (default) | trap: whether the guest may read and
 *                    write the console's data port without an exit while
 *                    no input waits for it (vmm/console.h: pass costs no
 *                    exit per output byte; trap sees every byte, and the
 *                    monitor escape reaches pagevisor whatever the guest).
 *   log LEVEL        error | warn | info (default) | debug | trace.
 *   selftest WHAT    none (default) | exception: after "core up", raise an
 *                    invalid-opcode exception inside the hypervisor to check
 *                    that its exception report reaches the console (a
 *                    debugging aid for new hardware; the machine then stops
 *                    with a failure status).
 *   disk DEV[,ro]    the guest's disk (docs/guest-disk.md): a virtio-blk
 *                    function by PCI address [SSSS:]BB:DD.F or by
 *                    serial=NAME (1..20 of A-Z a-z 0-9 . _ -), or an ATA
 *                    disk ata0-slave | ata1-master | ata1-slave; ",ro":
 *                    read-only for the guest. Default: none.
 * SIZE is as in guest/size.h ("512M", "1GiB", "268435456").
 */
#ifndef PV_GUEST_CONFIG_H
#define PV_GUEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/size.h"
#include "vmm/lib/log.h"

#define CONFIG_FILE_NAME "pagevisor.conf"

#define CONFIG_LINE_MAX 4096u    /* bytes per line, terminator excluded */
#define CONFIG_PATH_MAX 256u     /* path buffer: 255 bytes + NUL */
#define CONFIG_OPTIONS_MAX 2048u /* Linux x86 COMMAND_LINE_SIZE, NUL incl. */

#define CONFIG_SIZE_ALIGN (4 * SIZE_K)
#define CONFIG_MEMORY_MIN (16 * SIZE_M)
#define CONFIG_MEMORY_MAX (1 * SIZE_T)
#define CONFIG_MEMORY_DEFAULT (256 * SIZE_M)
#define CONFIG_FRAMES_MIN (4 * SIZE_M)

/* Legacy PC serial ports. */
#define CONFIG_PORT_COM1 0x3f8u
#define CONFIG_PORT_COM2 0x2f8u
#define CONFIG_PORT_COM3 0x3e8u
#define CONFIG_PORT_COM4 0x2e8u
#define CONFIG_PORT_MAX 0xffffu

/* PCI address limits (segment and bus are bounded by their digit counts). */
#define CONFIG_PCI_DEV_MAX 0x1fu
#define CONFIG_PCI_FN_MAX 0x7u

/* Swap-in readahead, in pages per fault. */
#define CONFIG_READAHEAD_DEFAULT_PAGES 8u
#define CONFIG_READAHEAD_MAX_PAGES 256u

#define CONFIG_TELEMETRY_MS_MAX 3600000u /* one sample an hour at the least */

/* Keys, also the index of pv_config.line[]. */
enum config_key {
    CONFIG_KEY_LINUX,
    CONFIG_KEY_INITRD,
    CONFIG_KEY_OPTIONS,
    CONFIG_KEY_MEMORY,
    CONFIG_KEY_FRAMES,
    CONFIG_KEY_SWAP,
    CONFIG_KEY_READAHEAD,
    CONFIG_KEY_CONSOLE,
    CONFIG_KEY_CONSOLE_DATA,
    CONFIG_KEY_LOG,
    CONFIG_KEY_SELFTEST,
    CONFIG_KEY_TELEMETRY,
    CONFIG_KEY_DISK,
    CONFIG_KEY_COUNT,
};

enum config_swap {
    CONFIG_SWAP_NONE,   /* no swap device: frames must hold the whole guest */
    CONFIG_SWAP_AUTO,   /* first usable virtio-blk or ATA disk */
    CONFIG_SWAP_VIRTIO, /* first virtio-blk disk */
    CONFIG_SWAP_ATA,    /* first ATA disk */
    CONFIG_SWAP_PCI,    /* the disk controller at swap_segment:bus:dev.fn */
};

/* The guest's disk (docs/guest-disk.md). */
enum config_disk {
    CONFIG_DISK_NONE,
    CONFIG_DISK_PCI,    /* the virtio-blk function at disk_pci */
    CONFIG_DISK_SERIAL, /* the virtio-blk function whose serial is disk_serial */
    CONFIG_DISK_ATA,    /* the ATA disk at disk_ata_channel / disk_ata_slave */
};
#define CONFIG_DISK_SERIAL_MAX 20u /* virtio-blk GET_ID answers 20 bytes */

enum config_readahead {
    CONFIG_READAHEAD_OFF,     /* read only the faulting page */
    CONFIG_READAHEAD_CLUSTER, /* read the aligned cluster of readahead_pages */
    CONFIG_READAHEAD_AUTO,    /* adaptive window starting at readahead_pages */
};

/* The console's data port (RBR/THR) while no input waits: vmm/console.h. */
enum config_console_data {
    CONFIG_CONSOLE_DATA_PASS, /* passed with the LSR: no exit per byte */
    CONFIG_CONSOLE_DATA_TRAP, /* always trapped: every byte seen */
};

enum config_selftest {
    CONFIG_SELFTEST_NONE,
    CONFIG_SELFTEST_EXCEPTION,
};

struct pv_config {
    char linux_path[CONFIG_PATH_MAX];  /* "" when no guest is configured */
    char initrd_path[CONFIG_PATH_MAX]; /* "" when none */
    char options[CONFIG_OPTIONS_MAX];  /* joined command line, "" when none */
    uint64_t memory;                   /* bytes */
    uint64_t frames;                   /* bytes, <= memory */
    enum config_swap swap;
    uint16_t swap_segment;             /* only for CONFIG_SWAP_PCI */
    uint8_t swap_bus;
    uint8_t swap_dev;                  /* <= CONFIG_PCI_DEV_MAX */
    uint8_t swap_fn;                   /* <= CONFIG_PCI_FN_MAX */
    enum config_readahead readahead;
    uint32_t readahead_pages; /* power of two, 1..CONFIG_READAHEAD_MAX_PAGES;
                                 1 for off, 8 (start window) for auto */
    uint16_t console_port;    /* nonzero I/O port */
    enum config_console_data console_data;
    enum log_level log_level;
    enum config_selftest selftest;
    uint32_t telemetry_ms;    /* CSV samples every N ms of guest time; 0 = off */
    bool telemetry_trace;     /* ... with the fault-trace events */
    enum config_disk disk;
    uint16_t disk_segment;    /* CONFIG_DISK_PCI */
    uint8_t disk_bus, disk_dev, disk_fn;
    char disk_serial[CONFIG_DISK_SERIAL_MAX + 1]; /* CONFIG_DISK_SERIAL */
    uint8_t disk_ata_channel; /* CONFIG_DISK_ATA: 0 primary, 1 secondary */
    bool disk_ata_slave;
    bool disk_ro;             /* the guest may not write */
    /* 1-based line each key was (first) given on; 0 = default. Lets later
       checks ("file not found") name the line through config_error(). */
    uint32_t line[CONFIG_KEY_COUNT];
};

/* Fills cfg with every default: no guest, 256M memory and frames, ... */
void config_defaults(struct pv_config *cfg);

/*
 * Parses text[0..len) (need not be NUL-terminated) into cfg, starting from
 * the defaults. file_name (NULL: CONFIG_FILE_NAME) prefixes messages.
 * Returns 0, or -PV_EINVAL after writing one line (no '\n') into err:
 *   "FILE:LINE: message" for an error on a line, e.g.
 *       pagevisor.conf:4: unknown key 'memroy'
 *   "FILE: message" for a whole-file error, e.g.
 *       pagevisor.conf: initrd given but no linux
 * Parsing stops at the first error; cfg then holds config_defaults().
 * err may be NULL or err_len 0 to skip the message.
 */
int config_parse(struct pv_config *cfg, const char *file_name, const char *text,
                 size_t len, char *err, size_t err_len);

/* True if guest RAM may exceed the frames that back it (needs swap/zero). */
bool config_overcommit(const struct pv_config *cfg);

/* True if a guest kernel is configured. */
bool config_has_guest(const struct pv_config *cfg);

/* "linux", "memory", ...; NULL for an out-of-range key. */
const char *config_key_name(enum config_key key);

/*
 * Formats a message the way config_parse() does, for checks made after
 * parsing: "FILE:LINE: message", or "FILE: message" when line is 0.
 * Returns -PV_EINVAL so callers can `return config_error(...)`.
 */
int config_error(char *err, size_t err_len, const char *file_name,
                 uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Emits the configuration as lines of "config key=value ..." tokens, each a
 * value config_parse() accepts (sizes canonical, swap as SSSS:BB:DD.F,
 * console as 0xNNN). Free-text settings get a line each, value to the end:
 *     config linux=/vmlinuz            (linux=none without a guest)
 *     config initrd=none
 *     config options=console=ttyS0 quiet
 *     config memory=512M frames=256M overcommit=yes
 *     config swap=virtio readahead=cluster:8
 *     config console=0x3f8 log=info
 * Returns 0, or -PV_EINVAL for a NULL cfg or emit.
 */
/* The disk key's value as config_parse() accepts it ("00:05.0,ro",
 * "serial=data", "ata1-master"; "none"), into buf. */
void config_disk_word(const struct pv_config *cfg, char *buf, size_t len);

int config_describe(const struct pv_config *cfg,
                    void (*emit)(void *ctx, const char *line), void *ctx);

#endif
