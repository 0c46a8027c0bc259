using System;
using EffNet.Cli;

return EffNetCli.Run(args, Console.Out, Console.Error);
