// Every layer of the kernel speaks NTSTATUS and the Ddk's objects; what else a file uses it says itself.
global using KernelBridge.Abi;
global using KernelBridge.Ddk;
