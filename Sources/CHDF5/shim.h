#ifndef ACOL_CHDF5_SHIM_H
#define ACOL_CHDF5_SHIM_H
#include <hdf5.h>
/* HDF5's type ids, property-list classes and file-access flags are macros over
   H5open() and global ids; they do not import into Swift. Expose them here. */
static inline hid_t acol_h5t_native_float(void)  { return H5T_NATIVE_FLOAT; }
static inline hid_t acol_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t acol_h5t_native_uint8(void)  { return H5T_NATIVE_UINT8; }
static inline hid_t acol_h5t_native_int8(void)   { return H5T_NATIVE_INT8; }
static inline hid_t acol_h5t_native_int16(void)  { return H5T_NATIVE_INT16; }
static inline hid_t acol_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t acol_h5t_native_int32(void)  { return H5T_NATIVE_INT32; }
static inline hid_t acol_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t acol_h5t_native_int64(void)  { return H5T_NATIVE_INT64; }
static inline hid_t acol_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t acol_h5t_c_s1(void)          { return H5T_C_S1; }
static inline hid_t acol_h5t_std_u8le(void)      { return H5T_STD_U8LE; }
static inline hid_t acol_h5t_std_i32le(void)     { return H5T_STD_I32LE; }
static inline hid_t acol_h5t_std_i64le(void)     { return H5T_STD_I64LE; }
static inline hid_t acol_h5t_std_u64le(void)     { return H5T_STD_U64LE; }
static inline hid_t acol_h5t_ieee_f32le(void)    { return H5T_IEEE_F32LE; }
static inline hid_t acol_h5t_ieee_f64le(void)    { return H5T_IEEE_F64LE; }
static inline size_t acol_h5t_variable(void)     { return H5T_VARIABLE; }
static inline hid_t acol_h5p_default(void)       { return H5P_DEFAULT; }
static inline hid_t acol_h5p_file_create(void)   { return H5P_FILE_CREATE; }
static inline hid_t acol_h5p_file_access(void)   { return H5P_FILE_ACCESS; }
static inline hid_t acol_h5p_dataset_create(void){ return H5P_DATASET_CREATE; }
static inline hid_t acol_h5p_dataset_xfer(void)  { return H5P_DATASET_XFER; }
static inline hid_t acol_h5p_link_create(void)   { return H5P_LINK_CREATE; }
static inline hid_t acol_h5s_all(void)           { return H5S_ALL; }
static inline unsigned acol_h5f_acc_trunc(void)  { return H5F_ACC_TRUNC; }
static inline unsigned acol_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned acol_h5f_acc_rdwr(void)   { return H5F_ACC_RDWR; }
static inline unsigned acol_h5f_obj_all(void)    { return H5F_OBJ_ALL; }
static inline unsigned acol_h5f_obj_local(void)  { return H5F_OBJ_LOCAL; }
static inline hid_t acol_h5e_default(void)       { return H5E_DEFAULT; }
static inline hsize_t acol_h5s_unlimited(void)  { return H5S_UNLIMITED; }
static inline hid_t acol_h5p_link_access(void)   { return H5P_LINK_ACCESS; }
static inline unsigned acol_h5f_obj_file(void)   { return H5F_OBJ_FILE; }
static inline unsigned acol_h5f_obj_dataset(void){ return H5F_OBJ_DATASET; }
static inline unsigned acol_h5f_obj_group(void)  { return H5F_OBJ_GROUP; }
static inline unsigned acol_h5f_obj_datatype(void){ return H5F_OBJ_DATATYPE; }
static inline unsigned acol_h5f_obj_attr(void)   { return H5F_OBJ_ATTR; }
#endif
