using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using EffNet.Generator.Diagnostics;
using EffNet.Generator.Emit;
using EffNet.Generator.Parsing;
using EffNet.Model;
using EffNet.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EffNet.Generator
{
    /// <summary>
    /// Compiles every <c>[EfficientNet]</c>, <c>[EfficientNetLite]</c> and <c>[EfficientNetV2]</c> partial class into static C#:
    /// attribute -> <see cref="ModelRequest"/> (parse and check) -> <see cref="NetworkLayout"/> (scale the block table)
    /// -> <see cref="ForwardPlan"/> (plan the arena) -> source text (emit). Kernels live in EffNet.Runtime.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class EfficientNetGenerator : IIncrementalGenerator
    {
        public const string RequestStep = "ModelRequest";
        public const string OutputStep = "GeneratedModel";

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // One provider per family attribute, each cached on its own.
            IncrementalValuesProvider<ModelRequest>[] families = AttributeParser.AttributeNames.Select(name => Requests(context, name)).ToArray();

            // User types named like the namespaces generated code uses (EFN0016): looked up on every compilation (a few
            // dictionary lookups), reported once when there is a model to generate, and no model is generated meanwhile.
            IncrementalValueProvider<EquatableArray<DiagnosticInfo>> collisions = context.CompilationProvider
                .Select(static (compilation, _) => NamespaceCollisions.Find(compilation));
            IncrementalValueProvider<bool> anyModel = families
                .Select(requests => requests.Collect().Select(static (all, _) => !all.IsEmpty))
                .Aggregate(static (left, right) => left.Combine(right).Select(static (pair, _) => pair.Left || pair.Right));
            context.RegisterSourceOutput(collisions.Combine(anyModel), static (output, pair) =>
            {
                if (!pair.Right) return;
                foreach (DiagnosticInfo diagnostic in pair.Left)
                    output.ReportDiagnostic(diagnostic.ToDiagnostic(null));
            });

            foreach (IncrementalValuesProvider<ModelRequest> requests in families)
                RegisterModels(context, requests, collisions);
        }

        /// <summary>The classes marked with the family attribute <paramref name="attributeName"/>, parsed and checked.</summary>
        static IncrementalValuesProvider<ModelRequest> Requests(IncrementalGeneratorInitializationContext context, string attributeName)
            => context.SyntaxProvider
                .ForAttributeWithMetadataName(attributeName,
                    static (node, _) => node is ClassDeclarationSyntax || node is RecordDeclarationSyntax,
                    (context, token) => ParseSafely(context, attributeName, token))
                .Where(static request => request != null)
                .Select(static (request, _) => request!)
                .WithTrackingName(RequestStep);

        static void RegisterModels(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<ModelRequest> requests,
                                   IncrementalValueProvider<EquatableArray<DiagnosticInfo>> collisions)
        {
            // Valid requests: scale, plan and emit. Cached for as long as the request is unchanged.
            IncrementalValuesProvider<GeneratedModel> models = requests
                .Where(static request => !request.HasErrors)
                .Combine(collisions)
                .Select(static (pair, token) => pair.Right.Count == 0
                    ? Generate(pair.Left, token)
                    : new GeneratedModel(ModelEmitter.HintName(pair.Left), null, EquatableArray<DiagnosticInfo>.Empty))
                .WithTrackingName(OutputStep);
            context.RegisterSourceOutput(models, static (output, model) =>
            {
                foreach (DiagnosticInfo diagnostic in model.Diagnostics)
                    output.ReportDiagnostic(diagnostic.ToDiagnostic(null));
                if (model.Source != null)
                    output.AddSource(model.HintName, model.Source);
            });

            // Invalid requests: report at real source locations, which needs the syntax trees of the compilation.
            // Only requests with errors pay for that; valid ones never see the compilation.
            IncrementalValuesProvider<(ModelRequest Request, Compilation Compilation)> invalid = requests
                .Where(static request => request.HasErrors)
                .Combine(context.CompilationProvider);
            context.RegisterSourceOutput(invalid, static (output, pair) =>
            {
                foreach (DiagnosticInfo diagnostic in pair.Request.Diagnostics)
                    output.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Compilation));
            });
        }

        /// <summary>Never throws (an exception would drop every model's code): a failure becomes EFN0013 on the class.</summary>
        static ModelRequest? ParseSafely(GeneratorAttributeSyntaxContext context, string attributeName, System.Threading.CancellationToken token)
        {
            try
            {
                return AttributeParser.Parse(context, attributeName, token);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                string name = context.TargetSymbol.Name;
                var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, context.TargetNode.GetLocation(), name,
                    exception.GetType().Name + ": " + exception.Message);
                return new ModelRequest(null, EquatableArray<string>.Empty, name, name, name, 0, 0, 0, 0, 0, 0, 0,
                    new EquatableArray<DiagnosticInfo>(ImmutableArray.Create(diagnostic)));
            }
        }

        /// <summary>Never throws: a generator exception would silently drop every output, so it becomes EFN0013.</summary>
        static GeneratedModel Generate(ModelRequest request, System.Threading.CancellationToken token)
        {
            string hint = ModelEmitter.HintName(request);
            try
            {
                var config = new ModelConfig(request.Width, request.Depth, request.Resolution, request.NumClasses, (EfficientNetPadding)request.Padding,
                                             (ModelFamily)request.Family) { Precision = (EfficientNetPrecision)request.Precision };
                NetworkLayout layout = NetworkLayout.Create(config);
                token.ThrowIfCancellationRequested();
                ForwardPlan plan = ForwardPlan.Create(layout);
                if (plan.ArenaFloats > Array.MaxLength || layout.WeightFloats > Array.MaxLength)
                    return Failure(hint, DiagnosticInfo.Create(DiagnosticDescriptors.ArenaTooLarge, null, request.FullName,
                        Math.Max(plan.ArenaFloats, layout.WeightFloats).ToString("N0", CultureInfo.InvariantCulture),
                        Array.MaxLength.ToString("N0", CultureInfo.InvariantCulture)));
                return new GeneratedModel(hint, ModelEmitter.Emit(request, plan), EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception exception)
            {
                return Failure(hint, DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, null, request.FullName,
                    exception.GetType().Name + ": " + exception.Message));
            }
        }

        static GeneratedModel Failure(string hint, DiagnosticInfo diagnostic)
            => new GeneratedModel(hint, null, new EquatableArray<DiagnosticInfo>(ImmutableArray.Create(diagnostic)));

        static class Array
        {
            // The largest span length a managed array allows (System.Array.MaxLength, absent from netstandard2.0).
            public const int MaxLength = 0x7FFFFFC7;
        }
    }

    /// <summary>The emitted file of one model, or the diagnostics that stopped it; equatable so unchanged models stay cached.</summary>
    sealed record GeneratedModel(string HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
}
