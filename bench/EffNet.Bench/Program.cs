// Benchmarks EffNet against ONNX Runtime on the same weights and input (tools/make_bench_models.py makes them).
//
//   dotnet run -c Release --project bench/EffNet.Bench -- compare [--models b0,b3,b7,lite0,v2s] [--threads 1,2] [--rounds 15] [--csv medians.csv] [--load]
//        (--load: a neighbour process keeps one core busy throughout)
//   dotnet run -c Release --project bench/EffNet.Bench -- plot --csv medians.csv[,more.csv] --out docs/images/latency.png [--width 900] [--height 520]
//        (bench/latency-sample.csv holds the medians of docs/performance.md's table, to try the plot without a long run)
//   dotnet run -c Release --project bench/EffNet.Bench -- profile [--model 0]      per-stage time of our model
//   dotnet run -c Release --project bench/EffNet.Bench -- layers [--model b0] [--threads 1] [--each] [--int8]   time per layer type (--each: per call;
//        --int8: the int8 network on bench/models/NAME.int8.effw)
//   dotnet run -c Release --project bench/EffNet.Bench -- threads [--models b0,b3] [--rounds 11] [--rows idle,busy,instances,idlecost,batch]
//        the thread targets: idle scaling, one core busy (it starts and stops a busy neighbour process), two instances at
//        once, idle CPU, batch throughput
//   dotnet run -c Release --project bench/EffNet.Bench -- classify [--images bench/images] [--model 0] [--rounds 5]
//        `effnet classify` on a folder (tools/make_bench_images.py), one thread against every core, images per second
//   dotnet run -c Release --project bench/EffNet.Bench -- int8   the int8 1x1 conv against the fp32 one on real layer shapes
//   dotnet run -c Release --project bench/EffNet.Bench -- int8 --models b0,lite0 [--rounds 15]   whole networks, int8 against float32
//        (quantised once on bench/images, kept as bench/models/NAME.int8.effw)
//   dotnet run -c Release --project bench/EffNet.Bench -- finetune [--model fashion|b0] [--blocks 1,2,16] [--threads 1,2] [--epochs 3]
//        fine-tuning's forward, backward and AdamW step, images per second (tools/torch_finetune_speed.py: torch on the same shapes)
//   dotnet run -c Release --project bench/EffNet.Bench -- bdn [BenchmarkDotNet args]  the BenchmarkDotNet suite
using System;
using System.Linq;
using BenchmarkDotNet.Running;
using EffNet.Bench;

string mode = args.Length > 0 ? args[0] : "compare";
string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int[] List(string name, string fallback) => (Option(name) ?? fallback).Split(',').Select(int.Parse).ToArray();
string[] Names(string name, string fallback) => (Option(name) ?? fallback).Split(',');

switch (mode)
{
    case "compare":
        return SideBySide.Run(Names("--models", "b0,b3,b7"), List("--threads", "1,2"), int.Parse(Option("--rounds") ?? "15"), Option("--csv"), args.Contains("--load"));
    case "plot":
        if (Option("--csv") is not string csv || Option("--out") is not string png)
        {
            Console.Error.WriteLine("usage: EffNet.Bench plot --csv medians.csv[,more.csv] --out latency.png [--width 900] [--height 520]");
            return 1;
        }
        return LatencyPlot.Run(csv, png, int.Parse(Option("--width") ?? "900"), int.Parse(Option("--height") ?? "520"));
    case "profile":
        return StageProfile.Run(int.Parse(Option("--model") ?? "0"), int.Parse(Option("--runs") ?? "30"), int.Parse(Option("--threads") ?? "1"));
    case "layers":
        return LayerBreakdown.Run(Option("--model") ?? "b0", int.Parse(Option("--threads") ?? "1"), args.Contains("--each"), args.Contains("--int8"));
    case "threads":
        return ThreadScaling.Run(Names("--models", "b0,b3"), int.Parse(Option("--rounds") ?? "11"), Names("--rows", "idle,busy,instances,idlecost,batch"));
    case "classify":
        return ClassifyThroughput.Run(Option("--images") ?? "bench/images", int.Parse(Option("--model") ?? "0"), int.Parse(Option("--rounds") ?? "5"));
    case "int8":
        return Option("--models") is string models ? Int8Network.Run(models.Split(','), int.Parse(Option("--rounds") ?? "15")) : Int8Probe.Run();
    case "kernels":
        return KernelProbe.Run();
    case "finetune":
        return FineTuneSpeed.Run(Option("--model") ?? "fashion", List("--blocks", "1,2,10"), List("--threads", "1,2"), int.Parse(Option("--epochs") ?? "3"));
    case "bdn":
        BenchmarkSwitcher.FromAssembly(typeof(SideBySide).Assembly).Run(args.Skip(1).ToArray());
        return 0;
    default:
        Console.Error.WriteLine("usage: EffNet.Bench compare|plot|profile|layers|threads|classify|int8|kernels|finetune|bdn");
        return 1;
}
