using System.Text;

namespace Aspo.Data.Synthetic;

public enum ArithmeticSplit
{
    Train,
    HeldOut,
}
