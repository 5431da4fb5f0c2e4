/* The `disk` key (docs/guest-disk.md): which disk the guest gets, and how. */
#include "guest/config_values.h"
#include "vmm/lib/fmt.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char serial_prefix[] = "serial=";
static const char ro_suffix[] = ",ro";

static const struct {
    const char *name;
    uint8_t channel;
    bool slave;
} ata_positions[] = {
    { "ata0-slave", 0, true },
    { "ata1-master", 1, false },
    { "ata1-slave", 1, true },
};

static bool serial_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int set_serial(struct parser *ps, struct slice all, struct slice name)
{
    char q[CONFIG_QUOTE_BUF];
    if (name.len == 0 || name.len > CONFIG_DISK_SERIAL_MAX)
        return config_fail(ps, "disk '%s': a serial is 1 to %u characters", config_quote(q, all),
                           CONFIG_DISK_SERIAL_MAX);
    for (size_t i = 0; i < name.len; i++)
        if (!serial_char(name.p[i]))
            return config_fail(ps, "disk '%s': serial character '%c' is not one of "
                               "A-Z a-z 0-9 . _ -", config_quote(q, all), name.p[i]);
    struct pv_config *cfg = ps->cfg;
    cfg->disk = CONFIG_DISK_SERIAL;
    memcpy(cfg->disk_serial, name.p, name.len);
    cfg->disk_serial[name.len] = '\0';
    return 0;
}

int config_set_disk(struct parser *ps, struct slice v)
{
    struct pv_config *cfg = ps->cfg;
    struct slice dev = v;
    bool ro = false;
    size_t rl = sizeof(ro_suffix) - 1;
    if (dev.len > rl && memcmp(dev.p + dev.len - rl, ro_suffix, rl) == 0) {
        dev.len -= rl;
        ro = true;
    }
    char q[CONFIG_QUOTE_BUF];
    int rc = 1;
    size_t sl = sizeof(serial_prefix) - 1;
    if (dev.len >= sl && memcmp(dev.p, serial_prefix, sl) == 0) {
        rc = set_serial(ps, v, (struct slice){ dev.p + sl, dev.len - sl });
    } else {
        for (size_t i = 0; i < ARRAY_LEN(ata_positions); i++)
            if (slice_eq(dev, ata_positions[i].name)) {
                cfg->disk = CONFIG_DISK_ATA;
                cfg->disk_ata_channel = ata_positions[i].channel;
                cfg->disk_ata_slave = ata_positions[i].slave;
                rc = 0;
            }
        if (rc == 1 && slice_eq(dev, "ata0-master"))
            return config_fail(ps, "disk '%s': ata0-master holds the boot disk; use "
                               "ata0-slave, ata1-master or ata1-slave", config_quote(q, v));
        if (rc == 1) {
            struct config_pci a;
            rc = config_parse_pci(ps, "disk", dev, &a);
            if (rc == 0) {
                cfg->disk = CONFIG_DISK_PCI;
                cfg->disk_segment = a.segment;
                cfg->disk_bus = a.bus;
                cfg->disk_dev = a.dev;
                cfg->disk_fn = a.fn;
            }
        }
    }
    if (rc == 1)
        return config_fail(ps, "disk '%s': expected a PCI address [SSSS:]BB:DD.F, serial=NAME, "
                           "ata0-slave, ata1-master or ata1-slave, optionally followed by ,ro",
                           config_quote(q, v));
    if (rc < 0)
        return rc;
    cfg->disk_ro = ro;
    return 0;
}

void config_disk_word(const struct pv_config *cfg, char *buf, size_t len)
{
    const char *ro = cfg->disk_ro ? ro_suffix : "";
    switch (cfg->disk) {
    case CONFIG_DISK_PCI:
        pv_snprintf(buf, len, "%04x:%02x:%02x.%x%s", (unsigned)cfg->disk_segment,
                    (unsigned)cfg->disk_bus, (unsigned)cfg->disk_dev, (unsigned)cfg->disk_fn, ro);
        return;
    case CONFIG_DISK_SERIAL:
        pv_snprintf(buf, len, "%s%s%s", serial_prefix, cfg->disk_serial, ro);
        return;
    case CONFIG_DISK_ATA:
        for (size_t i = 0; i < ARRAY_LEN(ata_positions); i++)
            if (ata_positions[i].channel == cfg->disk_ata_channel &&
                ata_positions[i].slave == cfg->disk_ata_slave) {
                pv_snprintf(buf, len, "%s%s", ata_positions[i].name, ro);
                return;
            }
        pv_snprintf(buf, len, "?");
        return;
    default:
        pv_snprintf(buf, len, "none");
        return;
    }
}
