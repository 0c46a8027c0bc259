using System.Text;

namespace EffNet.Generator.Emit
{
    /// <summary>An indenting text writer for emitted C#.</summary>
    sealed class SourceWriter
    {
        readonly StringBuilder _text = new StringBuilder();
        int _indent;

        public void Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
            _text.Append('\n');
        }

        public void Open(string line)
        {
            Line(line);
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        public override string ToString() => _text.ToString();
    }
}
