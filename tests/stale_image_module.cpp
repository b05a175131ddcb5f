// Stands for cachet-images.so of another build of cachet (tests/test_image_stack.cpp): its
// table is laid out otherwise (here: not a table at all), so calling through it would crash.
// STALE_INTERFACE: the interface it names; without it, none (as builds before the check).
extern "C" {

#ifdef STALE_INTERFACE
const char* cachet_image_module_interface()
{
    return STALE_INTERFACE;
}
#endif

const void* cachet_image_stack_v1()
{
    static const char not_a_table[16] = {};
    return not_a_table;
}

} // extern "C"
