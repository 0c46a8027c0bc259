using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EffNet.Import
{
    /// <summary>Python's None on the unpickler's stack.</summary>
    internal sealed class PickleNone
    {
        public static readonly PickleNone Instance = new PickleNone();
        PickleNone() { }
    }

    /// <summary>A dict or OrderedDict, in insertion order.</summary>
    internal sealed class PickleDict
    {
        public List<KeyValuePair<object, object>> Items { get; } = new List<KeyValuePair<object, object>>();
    }

    /// <summary>The only callables a state dict needs. Nothing is ever called: each one is interpreted here.</summary>
    internal enum PickleCallable
    {
        OrderedDict,
        RebuildTensor,
        RebuildParameter,
        StorageType,
    }

    /// <summary>An allow-listed Python global.</summary>
    internal sealed class PickleGlobal
    {
        public PickleGlobal(PickleCallable kind, string qualifiedName, ElementType storageType = ElementType.Float32)
        {
            Kind = kind; QualifiedName = qualifiedName; StorageType = storageType;
        }

        public PickleCallable Kind { get; }
        public string QualifiedName { get; }

        /// <summary>The element type, when <see cref="Kind"/> is <see cref="PickleCallable.StorageType"/>.</summary>
        public ElementType StorageType { get; }
    }

    /// <summary>A storage named by a persistent id: the zip entry <c>data/&lt;Key&gt;</c> holding <see cref="Elements"/> elements.</summary>
    internal sealed class PickleStorage
    {
        public PickleStorage(string key, ElementType type, long elements)
        {
            Key = key; Type = type; Elements = elements;
        }

        public string Key { get; }
        public ElementType Type { get; }
        public long Elements { get; }
    }

    /// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a strided view of a storage.</summary>
    internal sealed class PickleTensor
    {
        public PickleTensor(PickleStorage storage, long offset, long[] sizes, long[] strides)
        {
            Storage = storage; Offset = offset; Sizes = sizes; Strides = strides;
        }

        public PickleStorage Storage { get; }
        public long Offset { get; }
        public long[] Sizes { get; }
        public long[] Strides { get; }
    }

    /// <summary>
    /// A restricted unpickler for PyTorch state dicts. It understands the opcodes <c>torch.save</c> emits and an
    /// allow-list of globals (OrderedDict, the tensor rebuild functions and the storage classes); any other global is
    /// refused at the opcode that names it, before anything else happens. Nothing is imported or executed: REDUCE and
    /// BUILD are interpreted for the allowed callables only. Every read is bounds-checked and every failure is a
    /// <see cref="WeightFormatException"/> naming the file and the offset in data.pkl.
    /// </summary>
    internal sealed class PickleReader
    {
        const int MaxGlobalLineBytes = 256;

        /// <summary>
        /// Objects pushed or memoized and marks set, at most. A B7 state dict needs about 15,000 (a training checkpoint with optimizer
        /// state a few times that); without a limit, a data.pkl of 64 MB of one-byte EMPTY_DICT opcodes would make 64 million
        /// objects, gigabytes from a file of megabytes.
        /// </summary>
        public const int MaxObjects = 1 << 20;

        /// <summary>
        /// Objects a data.pkl of <paramref name="bytes"/> may build, so that what one-byte opcodes can make stays within 16 times
        /// its size + 1 MiB (docs/reliability.md's reading bound): a base any state dict fits in, plus one object per 4 bytes
        /// (at most about 40 bytes each, stack slot included; torch.save spends about 6.5 bytes per object) and one dict or list
        /// per 16 bytes (about 70 bytes each; torch.save makes one or two per tensor, every 150 bytes or so).
        /// </summary>
        public static (int Objects, int Containers) Budget(int bytes)
            => (Math.Min(MaxObjects, 16_384 + bytes / 4), Math.Min(MaxObjects, 16_384 + bytes / 16));

        const int MaxProtocol = 5;

        static readonly Dictionary<string, PickleGlobal> AllowedGlobals = CreateAllowList();

        readonly byte[] _data;
        readonly string? _file;
        readonly List<object> _stack = new List<object>();
        readonly List<int> _marks = new List<int>();
        readonly Dictionary<long, object> _memo = new Dictionary<long, object>();
        readonly Dictionary<string, PickleStorage> _storages = new Dictionary<string, PickleStorage>(StringComparer.Ordinal);
        int _position;
        int _opcodeAt;
        int _objects, _containers;
        readonly int _objectBudget, _containerBudget;

        public PickleReader(byte[] data, string? file)
        {
            _data = data;
            _file = file;
            (_objectBudget, _containerBudget) = Budget(data.Length);
        }

        /// <summary>Unpickles the whole stream and returns the object STOP leaves.</summary>
        public object Load()
        {
            while (true)
            {
                _opcodeAt = _position;
                byte opcode = ReadByte();
                switch (opcode)
                {
                    case 0x80: // PROTO
                        {
                            int protocol = ReadByte();
                            if (protocol > MaxProtocol)
                                throw Fail($"pickle protocol {protocol} is newer than any PyTorch writes (2..{MaxProtocol})");
                            break;
                        }
                    case 0x95: // FRAME: an 8-byte length announcing the next frame; framing changes nothing here
                        {
                            ulong frame = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
                            if (frame > (ulong)(_data.Length - _position))
                                throw Fail($"a frame of {frame} bytes runs past the end of data.pkl ({_data.Length} bytes)");
                            break;
                        }
                    case (byte)'}': CountContainer(); Push(new PickleDict()); break; // EMPTY_DICT
                    case (byte)']': CountContainer(); Push(new List<object>()); break; // EMPTY_LIST
                    case (byte)')': Push(Array.Empty<object>()); break; // EMPTY_TUPLE
                    case (byte)'t': Push(PopToMark()); break; // TUPLE
                    case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                    case 0x86: // TUPLE2
                        {
                            object b = Pop(), a = Pop();
                            Push(new[] { a, b });
                            break;
                        }
                    case 0x87: // TUPLE3
                        {
                            object c = Pop(), b = Pop(), a = Pop();
                            Push(new[] { a, b, c });
                            break;
                        }
                    case (byte)'(': // MARK
                        Count();
                        _marks.Add(_stack.Count);
                        break;
                    case (byte)'a': // APPEND
                        {
                            object item = Pop();
                            ListOnTop("APPEND").Add(item);
                            break;
                        }
                    case (byte)'e': // APPENDS
                        {
                            object[] items = PopToMark();
                            ListOnTop("APPENDS").AddRange(items);
                            break;
                        }
                    case (byte)'q': Memoize(ReadByte()); break; // BINPUT
                    case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                    case 0x94: Memoize(_memo.Count); break; // MEMOIZE
                    case (byte)'h': Push(Recall(ReadByte())); break; // BINGET
                    case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                    case (byte)'X': Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // BINUNICODE
                    case 0x8c: Push(ReadString(ReadByte())); break; // SHORT_BINUNICODE
                    case 0x8d: Push(ReadString(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break; // BINUNICODE8
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                    case (byte)'K': Push((long)ReadByte()); break; // BININT1
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                    case 0x8a: Push(ReadLong1()); break; // LONG1
                    case 0x88: Push(true); break; // NEWTRUE
                    case 0x89: Push(false); break; // NEWFALSE
                    case (byte)'N': Push(PickleNone.Instance); break; // NONE
                    case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                    case (byte)'c': // GLOBAL "module\nname\n"
                        {
                            string module = ReadLine();
                            string name = ReadLine();
                            Push(ResolveGlobal(module, name));
                            break;
                        }
                    case 0x93: // STACK_GLOBAL
                        {
                            object name = Pop(), module = Pop();
                            if (module is not string m || name is not string n)
                                throw Fail("STACK_GLOBAL needs two strings (module and name) on the stack");
                            Push(ResolveGlobal(m, n));
                            break;
                        }
                    case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID
                    case (byte)'R': // REDUCE
                        {
                            object args = Pop(), callable = Pop();
                            Push(Reduce(callable, args));
                            break;
                        }
                    case (byte)'b': // BUILD
                        {
                            Pop(); // the state
                            object target = Peek();
                            // An OrderedDict's state is its __dict__: for a state dict that is `_metadata` (module versions).
                            if (target is not PickleDict)
                                throw Fail($"BUILD on a {Describe(target)} is not part of a state dict");
                            break;
                        }
                    case (byte)'s': // SETITEM
                        {
                            object value = Pop(), key = Pop();
                            DictOnTop("SETITEM").Items.Add(new KeyValuePair<object, object>(key, value));
                            break;
                        }
                    case (byte)'u': // SETITEMS
                        {
                            object[] items = PopToMark();
                            if (items.Length % 2 != 0)
                                throw Fail($"SETITEMS with an odd number ({items.Length}) of keys and values");
                            PickleDict dict = DictOnTop("SETITEMS");
                            for (int i = 0; i < items.Length; i += 2)
                                dict.Items.Add(new KeyValuePair<object, object>(items[i], items[i + 1]));
                            break;
                        }
                    case (byte)'.': // STOP
                        if (_stack.Count != 1 || _marks.Count != 0)
                            throw Fail($"STOP leaves {_stack.Count} objects and {_marks.Count} marks on the stack instead of one object");
                        return _stack[0];
                    default:
                        throw Fail(string.Format(CultureInfo.InvariantCulture,
                            "pickle opcode 0x{0:x2}{1} is not one a state dict uses; only tensors in (Ordered)dicts saved by torch.save can be read",
                            opcode, opcode >= 0x20 && opcode < 0x7f ? " ('" + (char)opcode + "')" : ""));
                }
            }
        }

        WeightFormatException Fail(string message)
            => new WeightFormatException(_file, string.Format(CultureInfo.InvariantCulture, "data.pkl offset {0}: {1}.", _opcodeAt, message));

        static Dictionary<string, PickleGlobal> CreateAllowList()
        {
            var globals = new Dictionary<string, PickleGlobal>(StringComparer.Ordinal);
            void Add(PickleCallable kind, string name, ElementType type = ElementType.Float32)
                => globals.Add(name, new PickleGlobal(kind, name, type));
            Add(PickleCallable.OrderedDict, "collections.OrderedDict");
            Add(PickleCallable.RebuildTensor, "torch._utils._rebuild_tensor_v2");
            Add(PickleCallable.RebuildParameter, "torch._utils._rebuild_parameter");
            Add(PickleCallable.StorageType, "torch.FloatStorage", ElementType.Float32);
            Add(PickleCallable.StorageType, "torch.HalfStorage", ElementType.Float16);
            Add(PickleCallable.StorageType, "torch.BFloat16Storage", ElementType.BFloat16);
            Add(PickleCallable.StorageType, "torch.DoubleStorage", ElementType.Float64);
            Add(PickleCallable.StorageType, "torch.LongStorage", ElementType.Int64);
            Add(PickleCallable.StorageType, "torch.IntStorage", ElementType.Int32);
            return globals;
        }

        PickleGlobal ResolveGlobal(string module, string name)
        {
            string qualified = module + "." + name;
            if (AllowedGlobals.TryGetValue(qualified, out PickleGlobal? global))
                return global;
            throw Fail($"the pickle asks for the Python global '{qualified}', which a state dict never needs. " +
                       $"The importer refuses global '{qualified}' and runs nothing; save the weights alone with torch.save(model.state_dict(), path)");
        }

        object PersistentLoad(object pid)
        {
            // ('storage', storage_type, key, location, numel), as torch.save writes it.
            if (pid is not object[] t || t.Length != 5 || t[0] is not string tag || tag != "storage")
                throw Fail($"persistent id {Describe(pid)} is not ('storage', type, key, location, numel)");
            if (t[1] is not PickleGlobal { Kind: PickleCallable.StorageType } type)
                throw Fail($"persistent id names {Describe(t[1])} where a storage class (torch.FloatStorage, ...) belongs");
            if (t[2] is not string key || key.Length == 0)
                throw Fail("persistent id has no storage key");
            if (t[3] is not string)
                throw Fail($"storage '{key}' has no location string");
            if (t[4] is not long elements || elements < 0)
                throw Fail($"storage '{key}' has an invalid element count {Describe(t[4])}");
            if (_storages.TryGetValue(key, out PickleStorage? known))
            {
                if (known.Type != type.StorageType || known.Elements != elements)
                    throw Fail($"storage '{key}' is described twice, as {known.Elements} x {ElementTypes.Name(known.Type)} and as {elements} x {ElementTypes.Name(type.StorageType)}");
                return known;
            }
            var storage = new PickleStorage(key, type.StorageType, elements);
            _storages.Add(key, storage);
            return storage;
        }

        object Reduce(object callable, object args)
        {
            if (callable is not PickleGlobal global)
                throw Fail($"REDUCE calls a {Describe(callable)}, which is not callable");
            if (args is not object[] a)
                throw Fail($"REDUCE arguments are a {Describe(args)}, not a tuple");
            switch (global.Kind)
            {
                case PickleCallable.OrderedDict:
                    if (a.Length != 0)
                        throw Fail("OrderedDict(...) with arguments is not part of a state dict");
                    CountContainer();
                    return new PickleDict();
                case PickleCallable.RebuildTensor:
                    return RebuildTensor(a);
                case PickleCallable.RebuildParameter:
                    // _rebuild_parameter(data, requires_grad, backward_hooks): the parameter is its tensor.
                    if (a.Length < 3 || a[0] is not PickleTensor tensor)
                        throw Fail("_rebuild_parameter needs (tensor, requires_grad, backward_hooks)");
                    return tensor;
                default:
                    throw Fail($"'{global.QualifiedName}' is a storage class and is only allowed in persistent ids");
            }
        }

        PickleTensor RebuildTensor(object[] a)
        {
            // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            if (a.Length < 6 || a.Length > 7)
                throw Fail($"_rebuild_tensor_v2 takes 6 or 7 arguments, not {a.Length}");
            if (a[0] is not PickleStorage storage)
                throw Fail($"_rebuild_tensor_v2's first argument is a {Describe(a[0])}, not a storage");
            if (a[1] is not long offset || offset < 0)
                throw Fail($"tensor on storage '{storage.Key}' has an invalid storage offset {Describe(a[1])}");
            long[] sizes = Integers(a[2], "size", storage.Key);
            long[] strides = Integers(a[3], "stride", storage.Key);
            if (sizes.Length != strides.Length)
                throw Fail($"tensor on storage '{storage.Key}' has {sizes.Length} sizes but {strides.Length} strides");
            return new PickleTensor(storage, offset, sizes, strides);
        }

        long[] Integers(object value, string what, string storage)
        {
            if (value is not object[] items)
                throw Fail($"tensor on storage '{storage}' has a {what} that is a {Describe(value)}, not a tuple");
            var result = new long[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                if (items[i] is not long n)
                    throw Fail($"tensor on storage '{storage}' has a {what} element that is a {Describe(items[i])}");
                result[i] = n;
            }
            return result;
        }

        // ----- stack, memo and raw reads -----

        void Push(object value)
        {
            Count();
            _stack.Add(value);
        }

        void Count()
        {
            if (++_objects > _objectBudget)
                throw Fail($"the pickle builds more than {_objectBudget} objects, more than a {_data.Length}-byte data.pkl holding a state dict can describe");
        }

        void CountContainer()
        {
            if (++_containers > _containerBudget)
                throw Fail($"the pickle builds more than {_containerBudget} dicts and lists, more than a {_data.Length}-byte data.pkl holding a state dict can describe");
        }

        object Pop()
        {
            int floor = _marks.Count > 0 ? _marks[_marks.Count - 1] : 0;
            if (_stack.Count <= floor)
                throw Fail("the pickle stack is empty where an object was expected");
            object value = _stack[_stack.Count - 1];
            _stack.RemoveAt(_stack.Count - 1);
            return value;
        }

        object Peek()
        {
            int floor = _marks.Count > 0 ? _marks[_marks.Count - 1] : 0;
            if (_stack.Count <= floor)
                throw Fail("the pickle stack is empty where an object was expected");
            return _stack[_stack.Count - 1];
        }

        object[] PopToMark()
        {
            if (_marks.Count == 0)
                throw Fail("an opcode that collects items to a MARK found no MARK");
            int mark = _marks[_marks.Count - 1];
            _marks.RemoveAt(_marks.Count - 1);
            object[] items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        List<object> ListOnTop(string opcode)
            => Peek() as List<object> ?? throw Fail($"{opcode} needs a list, but the stack holds a {Describe(Peek())}");

        PickleDict DictOnTop(string opcode)
            => Peek() as PickleDict ?? throw Fail($"{opcode} needs a dict, but the stack holds a {Describe(Peek())}");

        void Memoize(long index)
        {
            Count();
            _memo[index] = Peek();
        }

        object Recall(long index)
            => _memo.TryGetValue(index, out object? value) ? value : throw Fail($"memo entry {index} is read before it is written");

        byte ReadByte()
        {
            if (_position >= _data.Length)
                throw Fail($"data.pkl ends ({_data.Length} bytes) before its STOP opcode");
            return _data[_position++];
        }

        ReadOnlySpan<byte> Take(ulong count)
        {
            if (count > (ulong)(_data.Length - _position))
                throw Fail($"{count} bytes are needed but data.pkl has only {_data.Length - _position} left");
            var span = new ReadOnlySpan<byte>(_data, _position, (int)count);
            _position += (int)count;
            return span;
        }

        string ReadString(ulong length)
        {
            ReadOnlySpan<byte> bytes = Take(length);
            try
            {
                return new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Fail("a string is not valid UTF-8");
            }
        }

        string ReadLine()
        {
            int start = _position;
            int end = Array.IndexOf(_data, (byte)'\n', start, Math.Min(MaxGlobalLineBytes, _data.Length - start));
            if (end < 0)
                throw Fail("GLOBAL's module or name has no line end within " + MaxGlobalLineBytes + " bytes");
            _position = end + 1;
            for (int i = start; i < end; i++)
                if (_data[i] < 0x20 || _data[i] >= 0x7f)
                    throw Fail("GLOBAL's module or name is not printable ASCII");
            return Encoding.ASCII.GetString(_data, start, end - start);
        }

        object ReadLong1()
        {
            int length = ReadByte();
            if (length > 8)
                throw Fail($"an integer of {length} bytes is larger than any tensor size or offset");
            ReadOnlySpan<byte> bytes = Take((ulong)length);
            long value = 0;
            for (int i = length - 1; i >= 0; i--)
                value = (value << 8) | bytes[i];
            if (length > 0 && length < 8 && (bytes[length - 1] & 0x80) != 0)
                value -= 1L << (8 * length); // two's complement sign of the shorter integer
            return value;
        }

        static string Describe(object value) => value switch
        {
            string s => "string '" + (s.Length > 40 ? s.Substring(0, 40) + "..." : s) + "'",
            long n => "integer " + n.ToString(CultureInfo.InvariantCulture),
            double => "float",
            bool => "bool",
            PickleNone => "None",
            object[] t => "tuple of " + t.Length,
            List<object> => "list",
            PickleDict => "dict",
            PickleGlobal g => "'" + g.QualifiedName + "'",
            PickleStorage => "storage",
            PickleTensor => "tensor",
            _ => value.GetType().Name,
        };
    }
}
