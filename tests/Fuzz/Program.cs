using System;
using System.IO;
using System.Linq;
using EffNet.Fuzz;

// effnet-fuzz <target>                  under afl-fuzz: SharpFuzz's fork server hands each input to the target
// effnet-fuzz <target> <file|dir>...    replay inputs (a crash from findings/, a corpus): print each outcome, exit 1 if any broke the contract
// effnet-fuzz seeds <dir>               write the seed corpora of the non-image targets (tools/make_fuzz_image_seeds.py writes the images)
if (args.Length == 0 || (args[0] != "seeds" && !Targets.All.ContainsKey(args[0])))
{
    Console.Error.WriteLine($"usage: effnet-fuzz <{string.Join("|", Targets.All.Keys)}> [inputs...] | effnet-fuzz seeds <dir>");
    return 2;
}
if (args[0] == "seeds")
{
    Seeds.Write(args.Length > 1 ? args[1] : "Seeds");
    return 0;
}

Target target = Targets.All[args[0]];
if (args.Length == 1)
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Check(buffer.ToArray());
    });
    return 0;
}

int broken = 0, inputs = 0;
foreach (string file in args.Skip(1).SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a).OrderBy(f => f, StringComparer.Ordinal).ToArray() : new[] { a }))
{
    inputs++;
    try
    {
        Console.WriteLine($"{file}: {target.Check(File.ReadAllBytes(file))}");
    }
    catch (Exception e)
    {
        broken++;
        Console.WriteLine($"{file}: BROKEN {e.GetType().Name}: {e.Message}");
        Console.WriteLine(e.StackTrace);
    }
}
Console.WriteLine($"{inputs} inputs, {broken} broke the contract");
return broken == 0 ? 0 : 1;
