/* Entry of the demo guest: the VMM starts us in long mode with RSI = boot_params. Switch to our
   own stack (the VMM's boot stack is tiny) and call guest_main(boot_params). */
    .section .text.entry, "ax"
    .global _start
_start:
    cli
    movw $0x80, %dx          /* POST code 0x01: the first guest instruction ran */
    movb $0x01, %al
    outb %al, %dx
    leaq stack_top(%rip), %rsp
    movq %rsi, %rdi
    call guest_main
1:  hlt
    jmp 1b

    .section .bss
    .align 16
stack_bottom:
    .skip 65536
stack_top:
