/*
 * Files on the ESP: the folder pagevisor.efi was loaded from (found through
 * the loaded-image protocol) and absolute paths on the same volume, written
 * systemd-boot style ("/vmlinuz"; '/' and '\' both separate).
 */
#include "efi/efi_glue.h"
#include "vmm/lib/log.h"

#include <string.h>

#define EFI_PAGE 4096ull
#define PATH_CHARS 256

static EFI_STATUS open_root(EFI_HANDLE device, EFI_FILE_HANDLE *root)
{
    EFI_GUID fs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_STATUS st = uefi_call_wrapper(g_bs->HandleProtocol, 3, device, &fs_guid, (void **)&fs);
    if (EFI_ERROR(st))
        return st;
    return uefi_call_wrapper(fs->OpenVolume, 2, fs, root);
}

/* The directory part of the loaded image's file path, ending in '\'. */
static void image_dir(EFI_DEVICE_PATH *dp, CHAR16 *dir, size_t cap)
{
    size_t n = 0;
    for (; dp && !IsDevicePathEndType(dp); dp = NextDevicePathNode(dp)) {
        if (DevicePathType(dp) != MEDIA_DEVICE_PATH ||
            DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
            continue;
        const FILEPATH_DEVICE_PATH *fp = (const FILEPATH_DEVICE_PATH *)dp;
        size_t chars = (DevicePathNodeLength(dp) - SIZE_OF_FILEPATH_DEVICE_PATH) / sizeof(CHAR16);
        if (n && dir[n - 1] != '\\' && fp->PathName[0] != '\\' && n + 1 < cap)
            dir[n++] = '\\';
        for (size_t i = 0; i < chars && fp->PathName[i] && n + 1 < cap; i++)
            dir[n++] = fp->PathName[i] == '/' ? '\\' : fp->PathName[i];
    }
    /* strip the file name */
    while (n && dir[n - 1] != '\\')
        n--;
    if (n == 0)
        dir[n++] = '\\';
    dir[n] = 0;
}

EFI_STATUS esp_open(EFI_HANDLE image, struct esp *esp)
{
    EFI_GUID li_guid = LOADED_IMAGE_PROTOCOL;
    EFI_LOADED_IMAGE *li;
    memset(esp, 0, sizeof(*esp));
    EFI_STATUS st = uefi_call_wrapper(g_bs->HandleProtocol, 3, image, &li_guid, (void **)&li);
    if (EFI_ERROR(st))
        return st;
    esp->image_base = (uint64_t)(uintptr_t)li->ImageBase;
    esp->image_size = li->ImageSize;
    image_dir(li->FilePath, esp->dir, sizeof(esp->dir) / sizeof(esp->dir[0]));
    return open_root(li->DeviceHandle, &esp->root);
}

void esp_close(struct esp *esp)
{
    if (esp->root)
        uefi_call_wrapper(esp->root->Close, 1, esp->root);
    esp->root = NULL;
}

static EFI_STATUS open_path(struct esp *esp, const CHAR16 *path, EFI_FILE_HANDLE *fh)
{
    return uefi_call_wrapper(esp->root->Open, 5, esp->root, fh, (CHAR16 *)path,
                             EFI_FILE_MODE_READ, 0);
}

static EFI_STATUS file_size(EFI_FILE_HANDLE fh, uint64_t *size)
{
    EFI_GUID info_guid = EFI_FILE_INFO_ID;
    UINT8 buf[sizeof(EFI_FILE_INFO) + PATH_CHARS * sizeof(CHAR16)] __attribute__((aligned(8)));
    UINTN len = sizeof(buf);
    EFI_STATUS st = uefi_call_wrapper(fh->GetInfo, 4, fh, &info_guid, &len, buf);
    if (EFI_ERROR(st))
        return st;
    const EFI_FILE_INFO *info = (const EFI_FILE_INFO *)buf;
    if (info->Attribute & EFI_FILE_DIRECTORY)
        return EFI_NOT_FOUND;
    *size = info->FileSize;
    return EFI_SUCCESS;
}

/* Read exactly size bytes (Read may return short counts). */
static EFI_STATUS read_all(EFI_FILE_HANDLE fh, void *dst, uint64_t size)
{
    uint8_t *p = dst;
    while (size) {
        UINTN chunk = size;
        EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &chunk, p);
        if (EFI_ERROR(st))
            return st;
        if (chunk == 0)
            return EFI_END_OF_FILE;
        p += chunk;
        size -= chunk;
    }
    return EFI_SUCCESS;
}

/* Append ASCII src to dst (n CHAR16s used of PATH_CHARS), '/' becoming the
 * UEFI separator '\'; returns the new length. Always NUL-terminates. */
static size_t append_path(CHAR16 *dst, size_t n, const char *src)
{
    for (; *src && n + 1 < PATH_CHARS; src++)
        dst[n++] = *src == '/' ? '\\' : (CHAR16)(unsigned char)*src;
    dst[n] = 0;
    return n;
}

/* Open path for reading and learn its size; the handle is closed on error. */
static EFI_STATUS open_sized(struct esp *esp, const CHAR16 *path, EFI_FILE_HANDLE *fh,
                             uint64_t *len)
{
    EFI_STATUS st = open_path(esp, path, fh);
    if (EFI_ERROR(st))
        return st;
    st = file_size(*fh, len);
    if (EFI_ERROR(st))
        uefi_call_wrapper((*fh)->Close, 1, *fh);
    return st;
}

EFI_STATUS esp_read_beside(struct esp *esp, const char *name, char **buf, UINTN *size)
{
    CHAR16 path[PATH_CHARS];
    size_t n = 0;
    for (; esp->dir[n] && n + 1 < PATH_CHARS; n++)
        path[n] = esp->dir[n];
    append_path(path, n, name);

    EFI_FILE_HANDLE fh;
    uint64_t len = 0;
    EFI_STATUS st = open_sized(esp, path, &fh, &len);
    if (EFI_ERROR(st))
        return st;
    st = uefi_call_wrapper(g_bs->AllocatePool, 3, EfiLoaderData, len + 1, (void **)buf);
    if (!EFI_ERROR(st)) {
        st = read_all(fh, *buf, len);
        if (EFI_ERROR(st))
            uefi_call_wrapper(g_bs->FreePool, 1, *buf);
        else
            *size = len;
    }
    uefi_call_wrapper(fh->Close, 1, fh);
    return st;
}

EFI_STATUS esp_stage(struct esp *esp, const char *path, struct staged_file *out)
{
    CHAR16 p16[PATH_CHARS];
    append_path(p16, 0, path);

    EFI_FILE_HANDLE fh;
    uint64_t len = 0;
    EFI_STATUS st = open_sized(esp, p16, &fh, &len);
    if (EFI_ERROR(st))
        return st;
    if (len == 0)
        st = EFI_END_OF_FILE;
    uint64_t base = 0, alloc = (len + EFI_PAGE - 1) & ~(EFI_PAGE - 1);
    if (!EFI_ERROR(st))
        st = alloc_pages(alloc, EFI_PAGE, &base);
    if (!EFI_ERROR(st)) {
        /* zero the tail of the last page: bytes past the end read as 0 */
        memset((uint8_t *)(uintptr_t)base + len, 0, alloc - len);
        st = read_all(fh, (void *)(uintptr_t)base, len);
    }
    uefi_call_wrapper(fh->Close, 1, fh);
    if (!EFI_ERROR(st))
        *out = (struct staged_file){ base, len, alloc };
    return st;
}
