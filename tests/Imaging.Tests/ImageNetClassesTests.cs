using Xunit;

namespace EffNet.Imaging.Tests
{
    public sealed class ImageNetClassesTests
    {
        [Fact]
        public void There_are_1000_distinct_names()
        {
            Assert.Equal(ImageNetClasses.Count, ImageNetClasses.Names.Count);
            Assert.Equal(1000, new System.Collections.Generic.HashSet<string>(ImageNetClasses.Names).Count);
        }

        [Theory]
        [InlineData(0, "tench")]
        [InlineData(1, "goldfish")]
        [InlineData(207, "golden retriever")]
        [InlineData(281, "tabby")]
        [InlineData(948, "Granny Smith")]
        [InlineData(999, "toilet tissue")]
        public void Known_indices_have_torchvision_names(int index, string name) => Assert.Equal(name, ImageNetClasses.Names[index]);

        [Fact]
        public void The_list_is_loaded_once() => Assert.Same(ImageNetClasses.Names, ImageNetClasses.Names);
    }
}
