using System;
using System.IO;
using System.Runtime.InteropServices;

namespace EffNet.IO
{
    /// <summary>What kind of file a path names (after following symbolic links).</summary>
    enum FileKind
    {
        Regular,
        Directory,

        /// <summary>A device, FIFO or socket: writing a file over it would replace it.</summary>
        Special,
    }

    /// <summary>
    /// Which file a path names, so that two names of one file (a hard link, a symbolic link, "a/../b") compare equal.
    /// On Linux it is the device and inode number from <c>statx</c>; elsewhere, or when <c>statx</c> is missing, the full
    /// path with symbolic links resolved, which misses hard links.
    /// </summary>
    /// <param name="ResolvedPath">The full path with every symbolic link resolved.</param>
    /// <param name="Node">Device and inode number, when the system told them.</param>
    readonly record struct FileIdentity(FileKind Kind, string ResolvedPath, (ulong Device, ulong Inode)? Node)
    {
        /// <summary>The identity of the file <paramref name="path"/> names, or null when nothing is there.</summary>
        public static FileIdentity? Of(string path)
        {
            string resolved = ResolveLinks(Path.GetFullPath(path));
            if (OperatingSystem.IsLinux() && LinuxStatx.TryGet(resolved, out (FileKind, ulong, ulong)? node))
                return node is var (kind, device, inode) ? new FileIdentity(kind, resolved, (device, inode)) : null;
            if (Directory.Exists(resolved))
                return new FileIdentity(FileKind.Directory, resolved, null);
            // Without stat a device looks like a file; on Windows devices are not files in a directory.
            return File.Exists(resolved) ? new FileIdentity(FileKind.Regular, resolved, null) : null;
        }

        /// <summary><paramref name="full"/>, or the file its chain of symbolic links ends at.</summary>
        public static string ResolveLinks(string full)
        {
            try
            {
                FileSystemInfo? target = File.ResolveLinkTarget(full, returnFinalTarget: true);
                return target is null ? full : Path.GetFullPath(target.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return full; // nothing there, or a directory on the way that cannot be read: the path names itself
            }
        }

        public bool IsSameFileAs(FileIdentity other) => Node is { } node && other.Node is { } otherNode
            ? node == otherNode
            : string.Equals(ResolvedPath, other.ResolvedPath,
                OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>statx(2): its struct has the same layout on every Linux architecture (include/uapi/linux/stat.h).</summary>
    static unsafe partial class LinuxStatx
    {
        const int AtCurrentDirectory = -100, NoSuchFile = 2, NotADirectory = 20;
        const uint MaskType = 0x1, MaskInode = 0x100;
        const int ModeOffset = 28, InodeOffset = 32, DeviceMajorOffset = 136, DeviceMinorOffset = 140, StructBytes = 256;
        const ushort TypeBits = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000;

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Statx(int directory, string path, int flags, uint mask, byte* result);

        static bool _missing; // glibc before 2.28 or a libc without statx: use the path instead

        /// <summary>False when statx cannot be used at all; otherwise <paramref name="node"/> is the file, or null when none exists.</summary>
        public static bool TryGet(string path, out (FileKind Kind, ulong Device, ulong Inode)? node)
        {
            node = null;
            if (_missing)
                return false;
            byte* buffer = stackalloc byte[StructBytes];
            int result;
            try
            {
                result = Statx(AtCurrentDirectory, path, 0, MaskType | MaskInode, buffer);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                _missing = true;
                return false;
            }
            if (result != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                return error is NoSuchFile or NotADirectory; // nothing there; any other failure (no permission): use the path
            }
            ushort type = (ushort)(*(ushort*)(buffer + ModeOffset) & TypeBits);
            FileKind kind = type == RegularType ? FileKind.Regular : type == DirectoryType ? FileKind.Directory : FileKind.Special;
            ulong device = ((ulong)*(uint*)(buffer + DeviceMajorOffset) << 32) | *(uint*)(buffer + DeviceMinorOffset);
            node = (kind, device, *(ulong*)(buffer + InodeOffset));
            return true;
        }
    }
}
