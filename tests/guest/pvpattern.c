/* pvpattern: a known pattern at a known guest-physical address, for the
 * monitor's `x` and `gpa` tests (static Linux userspace, run as root).
 *
 *   pvpattern
 *
 * Writes PATTERN repeated over one locked, page-aligned page, finds the
 * page's physical address in /proc/self/pagemap (root sees the frame
 * number) and prints
 *     pvpattern: gpa=0x<address> len=4096 pattern=<PATTERN>
 * then waits for a line on stdin (the test opens the monitor meanwhile),
 * checks the page again and prints "pvpattern: intact" or
 * "pvpattern: FAIL <reason>". Exit status 0 when intact.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PATTERN "pagevisor-x-test"
#define PAGE 4096u
#define PAGEMAP_PRESENT (UINT64_C(1) << 63)
#define PAGEMAP_PFN_MASK ((UINT64_C(1) << 55) - 1)

int main(void)
{
    size_t plen = strlen(PATTERN);
    uint8_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("pvpattern: FAIL mmap");
        return 1;
    }
    for (size_t i = 0; i < PAGE; i++)
        page[i] = (uint8_t)PATTERN[i % plen];
    if (mlock(page, PAGE) < 0) {
        perror("pvpattern: FAIL mlock");
        return 1;
    }
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t ent = 0;
    off_t at = (off_t)((uintptr_t)page / PAGE * sizeof(ent));
    if (fd < 0 || pread(fd, &ent, sizeof(ent), at) != (ssize_t)sizeof(ent)) {
        perror("pvpattern: FAIL pagemap");
        return 1;
    }
    close(fd);
    uint64_t pfn = ent & PAGEMAP_PFN_MASK;
    if (!(ent & PAGEMAP_PRESENT) || pfn == 0) {
        printf("pvpattern: FAIL page not present or pfn hidden (entry 0x%" PRIx64 ")\n", ent);
        return 1;
    }
    printf("pvpattern: gpa=0x%" PRIx64 " len=%u pattern=%s\n", pfn * PAGE, PAGE, PATTERN);
    fflush(stdout);
    char line[256];
    if (!fgets(line, sizeof(line), stdin)) {
        printf("pvpattern: FAIL no line on stdin\n");
        return 1;
    }
    for (size_t i = 0; i < PAGE; i++) {
        if (page[i] != (uint8_t)PATTERN[i % plen]) {
            printf("pvpattern: FAIL byte %zu is 0x%02x\n", i, page[i]);
            return 1;
        }
    }
    printf("pvpattern: intact\n");
    return 0;
}
